/* The deployment exports from C: a listener with the PROXY protocol gives
 * the host the client its header named (and the socket's own peer), opens
 * the connection only once the header is in and never shows it as data;
 * bad PROXY options are refused; LISTEN_FDS hands over a listening socket;
 * misuse gets error codes, and descriptors handed over are not leaked. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "check.h"

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    char peer[C10K_ADDRSTRLEN], socket_peer[C10K_ADDRSTRLEN];
    char data[64];
    size_t data_len;
    int opens_before_data;
} t;

static void server_open(void *ud, uint64_t conn) {
    (void)ud;
    CHECK_RC(c10k_conn_peer_addr(conn, t.peer, sizeof t.peer), 0);
    CHECK_RC(c10k_conn_socket_peer_addr(conn, t.socket_peer, sizeof t.socket_peer), 0);
    c10k_proxy_info info = {.size = sizeof info};
    CHECK_RC(c10k_conn_proxy_info(conn, &info), 0);
    CHECK(info.version == 1 && info.authority == NULL && info.authority_len == 0 && !info.tls);
    t.opens_before_data += t.data_len == 0;
}

static void server_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    (void)ud;
    if (t.data_len + len <= sizeof t.data) {
        memcpy(t.data + t.data_len, data, len);
        t.data_len += len;
    }
    if (t.data_len >= 5) {
        c10k_conn_close(conn);
    }
}

static void server_close(void *ud, uint64_t conn, int reason) {
    (void)ud, (void)conn, (void)reason;
    c10k_listener_close(t.listener);
    c10k_loop_stop(t.lp);
}

static void client_open(void *ud, uint64_t conn) {
    static const char header_and_data[] = "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nhello";
    (void)ud;
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)header_and_data, sizeof header_and_data - 1), 0);
    CHECK_RC(c10k_conn_close(conn), 0);
}

static void check_peers_through_a_header(void) {
    c10k_listen_options opts;
    c10k_listen_options_init(&opts, sizeof opts);
    CHECK(!opts.proxy_protocol && opts.proxy_trusted == NULL && opts.proxy_untrusted == C10K_PROXY_REFUSE);
    opts.proxy_protocol = true;
    c10k_conn_callbacks server = {.size = sizeof server, .on_open = server_open, .on_data = server_data,
                                  .on_close = server_close};
    c10k_conn_callbacks client = {.size = sizeof client, .on_open = client_open};
    char addr[C10K_ADDRSTRLEN];
    uint64_t conn = 0;
    CHECK_RC(c10k_listen(t.lp, "127.0.0.1:0", &opts, &server, NULL, &t.listener), 0);
    CHECK_RC(c10k_listener_addr(t.listener, addr, sizeof addr), 0);
    CHECK_RC(c10k_connect(t.lp, addr, &client, NULL, &conn), 0);
    CHECK_RUN(t.lp, 10000);
    CHECK_RUN_UNTIL_CLOSED(t.lp, 10000);
    CHECK_STR(t.peer, "203.0.113.7:5555");
    CHECK(strncmp(t.socket_peer, "127.0.0.1:", 10) == 0);
    CHECK(t.data_len == 5 && memcmp(t.data, "hello", 5) == 0);
    CHECK(t.opens_before_data == 1);
}

static void check_bad_options(void) {
    c10k_listen_options opts;
    c10k_listener *l = NULL;
    c10k_conn_callbacks cb = {.size = sizeof cb};
    c10k_listen_options_init(&opts, sizeof opts);
    opts.proxy_untrusted = 9;
    CHECK_RC(c10k_listen(t.lp, "127.0.0.1:0", &opts, &cb, NULL, &l), C10K_EINVAL);
    c10k_listen_options_init(&opts, sizeof opts);
    opts.proxy_trusted = "10.0.0.0/33";
    CHECK_RC(c10k_listen(t.lp, "127.0.0.1:0", &opts, &cb, NULL, &l), C10K_EINVAL);
    opts.proxy_trusted = "example.org";
    CHECK_RC(c10k_listen(t.lp, "127.0.0.1:0", &opts, &cb, NULL, &l), C10K_EINVAL);
    c10k_listen_options_init(&opts, sizeof opts);
    opts.proxy_max_header_bytes = 8;
    CHECK_RC(c10k_listen(t.lp, "127.0.0.1:0", &opts, &cb, NULL, &l), C10K_EINVAL);
    CHECK(l == NULL);

    c10k_http_config http;
    c10k_http_config_init(&http, sizeof http);
    CHECK(http.health_path == NULL);
    http.health_path = "no-slash";
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", &http, NULL, NULL, &l), C10K_EINVAL);
}

static void check_misuse(void) {
    char buf[C10K_ADDRSTRLEN];
    CHECK_RC(c10k_conn_socket_peer_addr(12345, buf, sizeof buf), C10K_ECLOSED);
    c10k_proxy_info info = {.size = sizeof info};
    CHECK_RC(c10k_conn_proxy_info(12345, &info), C10K_ECLOSED);
    CHECK_RC(c10k_request_proxy_info(NULL, &info), C10K_EINVAL);
    CHECK_RC(c10k_request_socket_peer_addr(NULL, buf, sizeof buf), C10K_EINVAL);
    CHECK_RC(c10k_loop_set_draining(NULL, true), C10K_EINVAL);
    CHECK_RC(c10k_loop_shutdown(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_set_draining(t.lp, true), 0);
    CHECK_RC(c10k_loop_set_draining(t.lp, false), 0);
    CHECK_RC(c10k_listen_fds_from_env(false, NULL), C10K_EINVAL);
    /* A descriptor handed to a failing call is still taken (closed). */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_RC(c10k_server_http_listen_fd(NULL, fd, NULL, NULL, NULL), C10K_EINVAL);
    CHECK(fcntl(fd, F_GETFD) == -1);
}

/* LISTEN_FDS for this process: descriptor 3 becomes a listening socket,
 * as a supervisor would hand it over: before anything else opens one. */
static void hand_over_listen_fds(void) {
    uint32_t count = 99;
    CHECK(fcntl(C10K_LISTEN_FDS_START, F_GETFD) == -1); /* free at start-up */
    unsetenv("LISTEN_PID");
    CHECK_RC(c10k_listen_fds_from_env(false, &count), 0);
    CHECK(count == 0);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(s, 16) == 0);
    if (s != C10K_LISTEN_FDS_START) {
        CHECK(dup2(s, C10K_LISTEN_FDS_START) == C10K_LISTEN_FDS_START);
        close(s);
    }
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    CHECK_RC(c10k_listen_fds_from_env(true, &count), 0);
    CHECK(count == 1);
    CHECK(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL);
    CHECK((fcntl(C10K_LISTEN_FDS_START, F_GETFD) & FD_CLOEXEC) != 0);

    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "nonsense", 1);
    CHECK_RC(c10k_listen_fds_from_env(true, &count), C10K_EINVAL);
}

/* The loop adopts the descriptor handed over. */
static void check_listen_fd(void) {
    c10k_listener *l = NULL;
    c10k_conn_callbacks cb = {.size = sizeof cb};
    char addr[C10K_ADDRSTRLEN];
    CHECK_RC(c10k_listen_fd(t.lp, C10K_LISTEN_FDS_START, NULL, &cb, NULL, &l), 0);
    CHECK_RC(c10k_listener_addr(l, addr, sizeof addr), 0);
    CHECK(strncmp(addr, "127.0.0.1:", 10) == 0);
    CHECK_RC(c10k_listener_close(l), 0);
    CHECK(fcntl(C10K_LISTEN_FDS_START, F_GETFD) == -1);
}

int main(void) {
    hand_over_listen_fds();
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    check_listen_fd();
    check_peers_through_a_header();
    check_bad_options();
    check_misuse();
    return check_finish(t.lp);
}
