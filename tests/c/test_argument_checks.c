/* Arguments are checked when given, and a failing call changes nothing:
 * - c10k_connect with a NULL out-parameter answers C10K_EINVAL and attempts
 *   nothing (it used to connect, with no way to close the connection);
 * - c10k_listen_fd on a descriptor that is no listening socket answers
 *   C10K_EINVAL (C10K_EBADF for one not open) and leaves it open and the
 *   caller's (it used to answer C10K_EUNKNOWN and close it);
 * - nonsense HTTP options answer C10K_EINVAL instead of being accepted
 *   (max_head_bytes = 0 then gave every request 431) or silently clamped
 *   (max_headers = 100000); the documented limits themselves are fine. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

static int accepted;

static void on_open(void *user_data, uint64_t conn) {
    (void)user_data;
    accepted++;
    c10k_conn_close(conn);
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    c10k_respond(req, 204, NULL, 0, NULL, 0);
}

static int is_open(int fd) {
    return fcntl(fd, F_GETFD) != -1;
}

static void connect_without_out(c10k_loop *lp) {
    static const c10k_conn_callbacks server = {.size = sizeof(c10k_conn_callbacks), .on_open = on_open};
    static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks)};
    c10k_listener *listener = NULL;
    char addr[C10K_ADDRSTRLEN];
    size_t sources = 0;
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", NULL, &server, NULL, &listener), 0);
    CHECK_RC(c10k_listener_addr(listener, addr, sizeof addr), 0);
    CHECK_RC(c10k_connect(lp, addr, &client, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_open_handles(lp, &sources, NULL), 0);
    CHECK(sources == 1); /* the listener only: no connection was made */
    for (int i = 0; i < 5; i++) {
        CHECK(c10k_loop_run_once(lp, 10) >= 0);
    }
    CHECK(accepted == 0);
    CHECK_RC(c10k_listener_close(listener), 0);
}

static void listen_fd_leaves_failures_alone(c10k_loop *lp) {
    static const c10k_conn_callbacks callbacks = {.size = sizeof(c10k_conn_callbacks)};
    c10k_listener *listener = NULL;
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    CHECK_RC(c10k_listen_fd(lp, pipe_fds[0], NULL, &callbacks, NULL, &listener), C10K_EINVAL);
    CHECK(is_open(pipe_fds[0]));
    CHECK(write(pipe_fds[1], "x", 1) == 1); /* still the same pipe */
    char byte = 0;
    CHECK(read(pipe_fds[0], &byte, 1) == 1 && byte == 'x');

    int unbound = socket(AF_INET, SOCK_STREAM, 0); /* a socket, not listening */
    CHECK_RC(c10k_listen_fd(lp, unbound, NULL, &callbacks, NULL, &listener), C10K_EINVAL);
    CHECK(is_open(unbound));

    /* Good descriptor, bad other arguments: still the caller's. */
    int listening = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(listening, (struct sockaddr *)&sin, sizeof sin) == 0 && listen(listening, 8) == 0);
    CHECK_RC(c10k_listen_fd(lp, listening, NULL, NULL, NULL, &listener), C10K_EINVAL);
    CHECK(is_open(listening));
    CHECK_RC(c10k_listen_fd(lp, listening, NULL, &callbacks, NULL, NULL), C10K_EINVAL);
    CHECK(is_open(listening));
    /* And on success the loop owns it: closing the listener closes it. */
    CHECK_RC(c10k_listen_fd(lp, listening, NULL, &callbacks, NULL, &listener), 0);
    CHECK_RC(c10k_listener_close(listener), 0);
    CHECK(!is_open(listening));

    close(pipe_fds[1]);
    close(unbound);
    /* pipe_fds[0] is closed now: a descriptor that is not open. */
    close(pipe_fds[0]);
    CHECK_RC(c10k_listen_fd(lp, pipe_fds[0], NULL, &callbacks, NULL, &listener), C10K_EBADF);
}

/* Listens with one option changed; returns the code, closing on success. */
static int http_listen_with(c10k_loop *lp, c10k_http_config *config) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_listener *listener = NULL;
    int rc = c10k_http_listen(lp, "127.0.0.1:0", config, &callbacks, NULL, &listener);
    if (rc == 0) {
        CHECK_RC(c10k_listener_close(listener), 0);
    }
    c10k_http_config_init(config, sizeof *config);
    return rc;
}

static void http_options_are_checked(c10k_loop *lp) {
    c10k_http_config config;
    c10k_http_config_init(&config, sizeof config);
    config.max_head_bytes = 0;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    config.max_head_bytes = 63;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    config.max_head_bytes = C10K_MAX_HEAD_BYTES_LIMIT + 1;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    config.max_headers = 100000;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    config.max_headers = 0;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    config.access_log_fd = -2;
    CHECK_RC(http_listen_with(lp, &config), C10K_EINVAL);
    /* The limits themselves are accepted. */
    config.max_head_bytes = C10K_MAX_HEAD_BYTES_LIMIT;
    config.max_headers = C10K_MAX_HEADERS_LIMIT;
    CHECK_RC(http_listen_with(lp, &config), 0);
    config.max_head_bytes = 64;
    config.max_headers = 1;
    CHECK_RC(http_listen_with(lp, &config), 0);

    /* The server checks them when given too. */
    c10k_server *server = NULL;
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    CHECK_RC(c10k_server_new(NULL, &server), 0);
    config.max_headers = 100000;
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", &config, &callbacks, NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_free(server), 0);
}

int main(void) {
    c10k_loop *lp = NULL;
    CHECK_RC(c10k_loop_new(&lp), 0);
    connect_without_out(lp);
    listen_fd_leaves_failures_alone(lp);
    http_options_are_checked(lp);
    return check_finish(lp);
}
