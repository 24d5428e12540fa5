/* hello_http: the benchmark server, and the deployment example.
 *
 *   GET /        -> 200 "Hello, World!" (text/plain)
 *   POST /echo   -> 200 with the request body
 *   GET /whoami  -> 200 with the client's IP address as the library
 *                   reports it (behind a balancer with --proxy-protocol:
 *                   the client the balancer names)
 *   otherwise    -> 404
 *
 * Usage: hello_http [ADDR] [--loops N] [--processes N] [--proxy-protocol]
 *                   [--proxy-trusted NETS] [--proxy-untrusted refuse|plain]
 *                   [--health-path PATH] [--drain-ms MS]
 *   ADDR                default 127.0.0.1:8080; ignored when LISTEN_FDS
 *                       hands over a listening socket (systemd socket
 *                       activation, or the previous process on a restart)
 *   --loops N           loops (threads) per process, default 1
 *   --processes N       N processes on one port, each with its own
 *                       SO_REUSEPORT socket; the parent supervises them
 *   --proxy-protocol    expect a PROXY v1/v2 header from trusted balancers
 *   --proxy-trusted     their networks, e.g. "10.0.0.0/8,::1"; default loopback
 *   --proxy-untrusted   other clients: reset (refuse, default) or served
 *                       as direct clients, header not believed (plain)
 *   --health-path PATH  answered by the library: 200, or 503 while draining
 *   --drain-ms MS       on SIGTERM, drain this long before accepting stops
 * Handlers run inline on the loop threads: they answer at once. */
#define _DEFAULT_SOURCE /* SO_REUSEPORT */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static const c10k_header text_plain[] = {HEADER("Content-Type", "text/plain")};

/* The IP address of "1.2.3.4:5" or "[::1]:5", in place. */
static char *address_ip(char *addr) {
    char *colon = strrchr(addr, ':');
    if (colon) {
        *colon = '\0';
    }
    if (addr[0] == '[') {
        addr[strlen(addr) - 1] = '\0';
        return addr + 1;
    }
    return addr;
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    const uint8_t *method, *path, *body;
    size_t method_len, path_len, body_len;
    c10k_request_method(req, &method, &method_len);
    c10k_request_path(req, &path, &path_len);

    int get = view_is(method, method_len, "GET") || view_is(method, method_len, "HEAD");
    char peer[C10K_ADDRSTRLEN];
    if (get && view_is(path, path_len, "/")) {
        c10k_respond(req, 200, text_plain, 1, (const uint8_t *)"Hello, World!", 13);
    } else if (view_is(method, method_len, "POST") && view_is(path, path_len, "/echo")) {
        c10k_request_body(req, &body, &body_len);
        c10k_respond(req, 200, text_plain, 1, body, body_len);
    } else if (get && view_is(path, path_len, "/whoami") && c10k_request_peer_addr(req, peer, sizeof peer) == 0) {
        const char *ip = address_ip(peer);
        c10k_respond(req, 200, text_plain, 1, (const uint8_t *)ip, strlen(ip));
    } else {
        c10k_respond(req, 404, text_plain, 1, (const uint8_t *)"Not Found\n", 10);
    }
}

/* --- --processes N: a small supervisor --- */

#define MAX_PROCESSES 64
static pid_t children[MAX_PROCESSES];
static unsigned child_count;

static void forward_signal(int sig) {
    for (unsigned i = 0; i < child_count; i++) {
        kill(children[i], sig);
    }
}

/* Binds a SO_REUSEPORT socket to `addr` without listening, so that the
 * port (a free one for port 0) stays ours while the children bind to it
 * too, yet no connection is queued on it. Its address goes to `bound`. */
static int reserve_port(const char *addr, char *bound, size_t len) {
    char host[C10K_ADDRSTRLEN];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (!colon) {
        return -1;
    }
    *colon = '\0';
    int port = atoi(colon + 1);
    int v6 = host[0] == '[';
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (v6) {
        host[strlen(host) - 1] = '\0';
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1) {
            return -1;
        }
    } else {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            return -1;
        }
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t sl = sizeof ss;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, v6 ? sizeof *sin6 : sizeof *sin) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        perror(addr);
        return -1;
    }
    port = ntohs(v6 ? sin6->sin6_port : sin->sin_port);
    snprintf(bound, len, v6 ? "[%s]:%d" : "%s:%d", v6 ? host + 1 : host, port);
    return fd;
}

/* Runs `serve` in `n` child processes on `addr`; prints "listening on"
 * once all of them listen, passes SIGINT/SIGTERM on, and exits when they
 * have all exited (0 if they all exited with 0). */
static int supervise(const char *addr, unsigned n, int (*serve)(const char *addr)) {
    char bound[C10K_ADDRSTRLEN];
    int reserved = reserve_port(addr, bound, sizeof bound);
    int ready[2];
    if (reserved < 0 || pipe(ready) != 0) {
        return 1;
    }
    on_stop_signals(forward_signal);
    for (; child_count < n; child_count++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(ready[0]);
            close(reserved);
            ready_fd = ready[1];
            _exit(serve(bound));
        }
        if (pid < 0) {
            perror("fork");
            break;
        }
        children[child_count] = pid;
    }
    close(ready[1]);
    char byte;
    unsigned up = 0;
    while (up < child_count) {
        ssize_t got = read(ready[0], &byte, 1);
        if (got == 1) {
            up++;
        } else if (got == 0 || errno != EINTR) {
            break; /* a child failed before it listened */
        }
    }
    close(ready[0]);
    if (up == n) {
        printf("listening on %s\n", bound);
        fflush(stdout);
    } else {
        forward_signal(SIGTERM);
    }
    int status = up == n ? 0 : 1;
    for (unsigned left = child_count; left > 0;) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid > 0) {
            left--;
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                status = 1;
            }
        } else if (errno != EINTR) {
            break;
        }
    }
    close(reserved);
    return status;
}

/* --- one process --- */

static int g_argc;
static char **g_argv;

static int serve(const char *addr) {
    int argc = g_argc;
    char **argv = g_argv;
    c10k_server_config config;
    c10k_server_config_init(&config, sizeof config);
    config.loops = option(argc, argv, "--loops", 1);
    config.drain_delay_ms = option(argc, argv, "--drain-ms", 0);
    c10k_listen_options listen;
    c10k_listen_options_init(&listen, sizeof listen);
    listen.reuse_port = option(argc, argv, "--processes", 1) > 1;
    listen.proxy_protocol = flag(argc, argv, "--proxy-protocol");
    listen.proxy_trusted = text_option(argc, argv, "--proxy-trusted", NULL);
    const char *untrusted = text_option(argc, argv, "--proxy-untrusted", "refuse");
    listen.proxy_untrusted = strcmp(untrusted, "plain") == 0 ? C10K_PROXY_PLAIN : C10K_PROXY_REFUSE;
    c10k_http_config http;
    c10k_http_config_init(&http, sizeof http);
    http.listen = &listen;
    http.health_path = text_option(argc, argv, "--health-path", NULL);
    c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_server *server = http_server_with(addr, &config, &http, &callbacks, NULL);
    return server ? serve_until_signal(server) : 1;
}

int main(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    unsigned processes = option(argc, argv, "--processes", 1);
    if (processes > MAX_PROCESSES) {
        fprintf(stderr, "--processes: at most %d\n", MAX_PROCESSES);
        return 2;
    }
    return processes > 1 ? supervise(addr, processes, serve) : serve(addr);
}
