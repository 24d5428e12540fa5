/* A buggy host gets error codes or documented behaviour, never memory
 * corruption: NULL everywhere in the HTTP and server API, bad headers, a
 * request answered twice, a reply completed twice or after its client left
 * (C10K_ECLOSED and on_abort), loop-only calls from another thread, a
 * handler that stops its loop or tries to free it, and c10k_server_free
 * from another thread while the server runs. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "check.h"

#define H(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1}

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    char addr[C10K_ADDRSTRLEN];
    int closes, expected_closes;
    int stops_in_handler;
    uint64_t left_reply;
    int aborts;
    int thread_rc[4];
    char got[8][512];
    size_t got_len[8];
} t;

static void check_nulls(void) {
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t reply = 7;
    c10k_server *server = (c10k_server *)1;
    c10k_stats stats;
    c10k_header bad = {NULL, 3, NULL, 0};

    CHECK_RC(c10k_respond(NULL, 200, NULL, 0, NULL, 0), C10K_EINVAL);
    CHECK_RC(c10k_respond_file(NULL, 200, NULL, 0, 0, 0, 1), C10K_EINVAL);
    CHECK_RC(c10k_respond_path(NULL, 200, NULL, 0, NULL), C10K_EINVAL);
    CHECK_RC(c10k_respond_upgrade(NULL, NULL, 0, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_request_defer(NULL, &reply), C10K_EINVAL);
    CHECK(reply == 7); /* outputs are written only on success */
    CHECK_RC(c10k_request_method(NULL, &p, &n), C10K_EINVAL);
    CHECK_RC(c10k_request_path(NULL, &p, &n), C10K_EINVAL);
    CHECK_RC(c10k_request_body(NULL, &p, &n), C10K_EINVAL);
    CHECK_RC(c10k_request_header(NULL, "Host", &p, &n), C10K_EINVAL);
    CHECK(c10k_request_header_count(NULL) == 0);
    CHECK(c10k_request_trailer_count(NULL) == 0);
    CHECK(p == NULL && n == 0);

    /* Reply handles that never existed: 0, made up, all ones. */
    CHECK_RC(c10k_reply_send(0, 200, NULL, 0, NULL, 0), C10K_ECLOSED);
    CHECK_RC(c10k_reply_send(12345, 200, NULL, 0, NULL, 0), C10K_ECLOSED);
    CHECK_RC(c10k_reply_send(12345, 200, &bad, 1, NULL, 0), C10K_EINVAL); /* arguments are checked first */
    CHECK_RC(c10k_reply_send_file(UINT64_MAX, 200, NULL, 0, 0, 0, 1), C10K_ECLOSED);
    CHECK_RC(c10k_reply_start(0, 200, NULL, 0, NULL), C10K_ECLOSED);
    CHECK_RC(c10k_reply_write(0, (const uint8_t *)"x", 1), C10K_ECLOSED);
    CHECK_RC(c10k_reply_end(0), C10K_ECLOSED);
    CHECK_RC(c10k_reply_resume_body(0), C10K_ECLOSED);

    CHECK_RC(c10k_server_new(NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_free(NULL), 0);
    CHECK_RC(c10k_server_start(NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_run(NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_stop(NULL, 0), C10K_EINVAL);
    CHECK_RC(c10k_server_request_stop(NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_wait(NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_http_listen(NULL, "127.0.0.1:0", NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_stats(NULL, &stats, NULL, 0, sizeof stats), C10K_EINVAL);
    CHECK(c10k_server_loop_count(NULL) == 0);

    CHECK_RC(c10k_server_new(NULL, &server), 0);
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_http_listen(server, NULL, NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_server_stats(server, NULL, NULL, 0, sizeof stats), C10K_EINVAL);
    stats.size = 3; /* a struct of another version */
    CHECK_RC(c10k_server_stats(server, &stats, NULL, 0, sizeof stats), C10K_EINVAL);
    CHECK_RC(c10k_server_free(server), 0);

    CHECK_RC(c10k_http_listen(NULL, "127.0.0.1:0", NULL, NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_stats(NULL, &stats), C10K_EINVAL);
    CHECK_RC(c10k_loop_run(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_stop(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_free(NULL), 0);
}

/* ---- HTTP on a loop, with clients on the same loop ---- */

static void *wrong_thread(void *arg) {
    static const c10k_http_callbacks none = {.size = sizeof(c10k_http_callbacks)};
    c10k_listener *l = NULL;
    uint64_t reply = *(uint64_t *)arg;
    t.thread_rc[0] = c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &none, NULL, &l);
    t.thread_rc[1] = c10k_loop_free(t.lp);
    /* Completing a deferred reply is allowed from any thread; twice is not. */
    t.thread_rc[2] = c10k_reply_send(reply, 200, NULL, 0, (const uint8_t *)"thread", 6);
    t.thread_rc[3] = c10k_reply_send(reply, 200, NULL, 0, (const uint8_t *)"again", 5);
    return NULL;
}

static void on_request(void *ud, c10k_request *req) {
    const uint8_t *path;
    size_t len;
    uint64_t reply = 0, again = 0;
    (void)ud;
    CHECK_RC(c10k_request_path(req, &path, &len), 0);
    CHECK_RC(c10k_request_path(req, NULL, &len), C10K_EINVAL);
    CHECK_RC(c10k_request_header(req, NULL, &path, &len), C10K_EINVAL);
    CHECK_RC(c10k_request_path(req, &path, &len), 0);

    if (len == 12 && memcmp(path, "/bad-headers", 12) == 0) {
        static const c10k_header split[] = {H("X-Ok", "1"), H("X-Split", "a\r\nSet-Cookie: evil=1")};
        static const c10k_header lf[] = {H("X", "a\nb")};
        static const c10k_header ctl[] = {H("X", "a\x01")};
        static const c10k_header name[] = {H("Bad Name", "v")};
        static const c10k_header empty[] = {H("", "v")};
        c10k_header null_name = {NULL, 4, (const uint8_t *)"v", 1};
        c10k_header null_value = {(const uint8_t *)"X", 1, NULL, 4};
        CHECK_RC(c10k_respond(req, 200, split, 2, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, lf, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, ctl, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, name, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, empty, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, &null_name, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, &null_value, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, NULL, 1, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 200, NULL, 0, NULL, 5), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 99, NULL, 0, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond(req, 1000, NULL, 0, NULL, 0), C10K_EINVAL);
        CHECK_RC(c10k_respond_path(req, 200, NULL, 0, NULL), C10K_EINVAL);
        CHECK_RC(c10k_respond_file(req, 200, NULL, 0, -1, 0, 1), C10K_EBADF);
        CHECK_RC(c10k_respond_upgrade(req, NULL, 0, NULL, NULL), C10K_EINVAL); /* not an upgrade request */
        CHECK_RC(c10k_loop_free(t.lp), C10K_EBUSY); /* from its own callback */
        CHECK_RC(c10k_respond(req, 200, NULL, 0, (const uint8_t *)"ok", 2), 0);
        CHECK_RC(c10k_respond(req, 200, NULL, 0, (const uint8_t *)"twice", 5), C10K_EINVAL);
        CHECK_RC(c10k_request_defer(req, &reply), C10K_EINVAL);
        CHECK(reply == 0);
    } else if (len == 5 && memcmp(path, "/stop", 5) == 0) {
        t.stops_in_handler++;
        CHECK_RC(c10k_loop_stop(t.lp), 0);
        CHECK_RC(c10k_respond(req, 200, NULL, 0, (const uint8_t *)"stopped", 7), 0);
    } else if (len == 6 && memcmp(path, "/twice", 6) == 0) {
        CHECK_RC(c10k_request_defer(req, &reply), 0);
        CHECK_RC(c10k_request_defer(req, &again), 0); /* deferring again gives the same reply */
        CHECK(again == reply);
        CHECK_RC(c10k_respond(req, 200, NULL, 0, NULL, 0), C10K_EINVAL); /* deferred: answer through the reply */
        CHECK_RC(c10k_reply_write(reply, (const uint8_t *)"x", 1), C10K_EINVAL); /* not started */
        CHECK_RC(c10k_reply_send(reply, 200, NULL, 0, (const uint8_t *)"first", 5), 0);
        CHECK_RC(c10k_reply_send(reply, 200, NULL, 0, (const uint8_t *)"second", 6), C10K_ECLOSED);
        CHECK_RC(c10k_reply_start(reply, 200, NULL, 0, NULL), C10K_ECLOSED);
        CHECK_RC(c10k_reply_end(reply), C10K_ECLOSED);
    } else if (len == 6 && memcmp(path, "/leave", 6) == 0) {
        CHECK_RC(c10k_request_defer(req, &t.left_reply), 0); /* never answered: the client leaves */
    } else if (len == 7 && memcmp(path, "/thread", 7) == 0) {
        pthread_t thread;
        CHECK_RC(c10k_request_defer(req, &reply), 0);
        CHECK(pthread_create(&thread, NULL, wrong_thread, &reply) == 0);
        CHECK(pthread_join(thread, NULL) == 0);
    } else {
        CHECK_RC(c10k_respond(req, 404, NULL, 0, NULL, 0), 0);
    }
}

static void on_abort(void *ud, uint64_t reply) {
    (void)ud;
    t.aborts++;
    CHECK(reply == t.left_reply);
    CHECK_RC(c10k_reply_send(reply, 200, NULL, 0, (const uint8_t *)"late", 4), C10K_ECLOSED);
    CHECK_RC(c10k_reply_start(reply, 200, NULL, 0, NULL), C10K_ECLOSED);
    if (t.closes == t.expected_closes) {
        c10k_loop_stop(t.lp);
    }
}

/* Clients: user_data is the index of the request they send. */
static const char *const requests[] = {
    "GET /bad-headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /stop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /twice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /thread HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /leave HTTP/1.1\r\nHost: x\r\n\r\n",
};

static void client_open(void *ud, uint64_t conn) {
    const char *r = requests[(size_t)ud];
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)r, strlen(r)), 0);
}

static void client_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    size_t i = (size_t)ud, room = sizeof t.got[i] - 1 - t.got_len[i];
    (void)conn;
    if (len > room) {
        len = room;
    }
    memcpy(t.got[i] + t.got_len[i], data, len);
    t.got_len[i] += len;
}

static void client_close(void *ud, uint64_t conn, int reason) {
    (void)ud;
    (void)conn;
    (void)reason;
    if (++t.closes == t.expected_closes && t.aborts == 1) {
        c10k_loop_stop(t.lp);
    }
}

static void leave_now(void *ud, uint64_t timer) {
    (void)timer;
    /* The client resets its connection while the reply is pending. */
    CHECK_RC(c10k_conn_abort(*(uint64_t *)ud), 0);
}

static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_data = client_data, .on_close = client_close};

static void connect_client(size_t i, uint64_t *conn) {
    CHECK_RC(c10k_connect(t.lp, t.addr, &client, (void *)i, conn), 0);
}

static void check_http_misuse(void) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request, .on_abort = on_abort};
    static const c10k_http_callbacks no_request = {.size = sizeof(c10k_http_callbacks), .on_abort = on_abort};
    c10k_http_config config;
    uint64_t conns[5], timer;
    c10k_http_config_init(&config, sizeof config);
    config.size = 1; /* another version's struct */
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", &config, &callbacks, NULL, &t.listener), C10K_EINVAL);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &no_request, NULL, &t.listener), C10K_EINVAL);
    CHECK_RC(c10k_http_listen(t.lp, "not an address", NULL, &callbacks, NULL, &t.listener), C10K_EINVAL);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &callbacks, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &callbacks, NULL, &t.listener), 0);
    CHECK_RC(c10k_listener_addr(t.listener, t.addr, sizeof t.addr), 0);

    /* A handler that stops the loop: run returns, its answer still goes out
     * when the loop runs again. */
    connect_client(1, &conns[1]);
    CHECK_RC(c10k_loop_run(t.lp), 0);
    CHECK(t.stops_in_handler == 1);

    t.expected_closes = 5;
    connect_client(0, &conns[0]);
    connect_client(2, &conns[2]);
    connect_client(3, &conns[3]);
    connect_client(4, &conns[4]);
    CHECK_RC(c10k_timer_start(t.lp, 200, 0, leave_now, &conns[4], &timer), 0);
    CHECK_RUN(t.lp, 5000);

    CHECK(t.got_len[0] > 0 && strncmp(t.got[0], "HTTP/1.1 200 ", 13) == 0 && strstr(t.got[0], "\r\n\r\nok") != NULL);
    CHECK(strstr(t.got[0], "evil") == NULL);
    CHECK(strstr(t.got[1], "\r\n\r\nstopped") != NULL);
    CHECK(strstr(t.got[2], "\r\n\r\nfirst") != NULL && strstr(t.got[2], "second") == NULL);
    CHECK(strstr(t.got[3], "\r\n\r\nthread") != NULL && strstr(t.got[3], "again") == NULL);
    CHECK(t.got_len[4] == 0);
    CHECK_RC(t.thread_rc[0], C10K_EWRONGTHREAD);
    CHECK_RC(t.thread_rc[1], C10K_EWRONGTHREAD);
    CHECK_RC(t.thread_rc[2], 0);
    CHECK_RC(t.thread_rc[3], C10K_ECLOSED);
    CHECK(t.aborts == 1);
    /* After the loop: every reply handle is dead. */
    CHECK_RC(c10k_reply_send(t.left_reply, 200, NULL, 0, NULL, 0), C10K_ECLOSED);
    CHECK_RC(c10k_listener_close(t.listener), 0);
    /* The clients have closed; the server's sides may still be lingering. */
    CHECK_RUN_UNTIL_CLOSED(t.lp, 5000);
}

/* ---- A server freed from another thread while it runs ---- */

static void hello(void *ud, c10k_request *req) {
    (void)ud;
    c10k_respond(req, 200, NULL, 0, (const uint8_t *)"Hello", 5);
}

static void *free_server(void *arg) {
    t.thread_rc[0] = c10k_server_free(arg);
    return NULL;
}

static int get_status(const char *addr) {
    struct sockaddr_in sa;
    char buf[256], host[64];
    const char *colon = strrchr(addr, ':');
    int fd, n = 0, r;
    memset(&sa, 0, sizeof sa);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, host, &sa.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        return -1;
    }
    r = (int)write(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 47);
    while (r > 0 && n < (int)sizeof buf - 1 && (r = (int)read(fd, buf + n, sizeof buf - 1 - (size_t)n)) > 0) {
        n += r;
    }
    close(fd);
    buf[n] = 0;
    return n >= 12 ? atoi(buf + 9) : 0;
}

static void check_server_misuse(void) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = hello};
    c10k_server_config config;
    c10k_server *server = NULL;
    char addr[C10K_ADDRSTRLEN];
    pthread_t thread;
    c10k_server_config_init(&config, sizeof config);
    config.loops = 2;
    config.shutdown_timeout_ms = 1000;
    CHECK_RC(c10k_server_new(&config, &server), 0);
    CHECK_RC(c10k_server_addr(server, 0, addr, sizeof addr), C10K_ENOENT); /* not running yet */
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, &callbacks, NULL), 0);
    CHECK_RC(c10k_server_start(server), 0);
    CHECK_RC(c10k_server_start(server), C10K_EBUSY);
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, &callbacks, NULL), C10K_EBUSY);
    CHECK_RC(c10k_server_addr(server, 0, addr, sizeof addr), 0);
    CHECK_RC(c10k_server_addr(server, 5, addr, sizeof addr), C10K_ENOENT);
    CHECK(get_status(addr) == 200);
    /* Stopping twice: the second finds it stopped. */
    CHECK_RC(c10k_server_stop(server, 1000), 0);
    CHECK_RC(c10k_server_stop(server, 1000), 0);
    CHECK(get_status(addr) == -1);
    CHECK_RC(c10k_server_free(server), 0);

    /* Freed from another thread while running: it stops, then frees. */
    CHECK_RC(c10k_server_new(&config, &server), 0);
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, &callbacks, NULL), 0);
    CHECK_RC(c10k_server_start(server), 0);
    CHECK_RC(c10k_server_addr(server, 0, addr, sizeof addr), 0);
    CHECK(get_status(addr) == 200);
    CHECK(pthread_create(&thread, NULL, free_server, server) == 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK_RC(t.thread_rc[0], 0);
    CHECK(get_status(addr) == -1);
}

int main(void) {
    check_nulls();
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    check_http_misuse();
    check_server_misuse();
    return check_finish(t.lp);
}
