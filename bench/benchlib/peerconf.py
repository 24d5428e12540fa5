"""Config generators for the peer servers, written alike on purpose:
one worker, access log off, keep-alive on, the same 13-byte text/plain body."""
import os
from pathlib import Path

BODY = "Hello, World!"


def _as_root():
    return os.geteuid() == 0


def nginx_conf(host, port, workdir, max_conns, static_root=None, workers=1):
    workdir = Path(workdir)
    # Above the hard limit nginx only logs an alert; ask for what can be had.
    nofile = min(max_conns + 1024, os.sysconf("SC_OPEN_MAX"))
    # nginx starts closing idle connections ("worker_connections are not
    # enough, reusing connections") when fewer than 1/16 of its slots are
    # free, so leave it an eighth more than the load needs.
    slots = max_conns + max_conns // 8 + 512
    # Running as root without `user` would drop the worker to nobody, which
    # cannot read our 0700 temp dirs; name root explicitly instead.
    user = "user root root;\n" if _as_root() else ""
    static = f"""
        location / {{
            root {static_root};
        }}""" if static_root else ""
    return f"""{user}worker_processes {workers};
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
worker_rlimit_nofile {nofile};
events {{
    worker_connections {slots};
}}
http {{
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    sendfile on;
    tcp_nodelay on;
    client_body_temp_path {workdir}/nginx-body;
    server {{
        listen {host}:{port} backlog=4096;
        location = / {{
            default_type text/plain;
            return 200 "{BODY}";
        }}{static}
    }}
}}
"""


def h2o_conf(host, port, workdir, max_conns):
    """h2o has no `return` directive. Its file handler with an open-file cache
    is its fastest way to send a fixed body (about 1.4x its mruby handler
    here), so we give it that; it adds ETag/Last-Modified headers."""
    workdir = Path(workdir)
    body = write(workdir, "hello.txt", BODY)
    user = "user: root\n" if _as_root() else ""
    return f"""{user}num-threads: 1
max-connections: {max_conns}
pid-file: {workdir}/h2o.pid
error-log: {workdir}/h2o-error.log
http1-request-timeout: 600
file.mime.addtypes:
  text/plain: .txt
listen:
  host: {host}
  port: {port}
hosts:
  default:
    paths:
      /:
        file.file: {body}
"""


def write(workdir, name, text):
    path = Path(workdir) / name
    path.write_text(text)
    return path
