/* The HTTP API from C: request views, inline answers, a reply deferred to
 * another thread, a streamed (chunked) reply, a refused header, and
 * Connection: close; five pipelined requests over one connection made with
 * c10k_connect on the same loop. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    char received[8192];
    size_t received_len;
    pthread_t completer;
    int completer_started;
    uint64_t deferred;
    uint8_t deferred_body[16];
    size_t deferred_len;
} t;

static int view_is(const uint8_t *p, size_t n, const char *s) {
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static const c10k_header text = {(const uint8_t *)"Content-Type", 12, (const uint8_t *)"text/plain", 10};

static void check_views(c10k_request *req) {
    const uint8_t *p, *name, *value;
    size_t n, name_len, value_len;
    uint8_t decoded[16];

    CHECK_RC(c10k_request_query(req, &p, &n), 0);
    CHECK(view_is(p, n, "x=%41b"));
    CHECK_RC(c10k_percent_decode(p, n, false, decoded, sizeof decoded, &n), 0);
    CHECK(view_is(decoded, n, "x=Ab"));
    CHECK_RC(c10k_request_header(req, "x-TEST", &p, &n), 0); /* case-insensitive */
    CHECK(view_is(p, n, "one"));
    CHECK_RC(c10k_request_header(req, "Missing", &p, &n), C10K_ENOENT);
    CHECK(c10k_request_header_count(req) == 2);
    CHECK_RC(c10k_request_header_at(req, 1, &name, &name_len, &value, &value_len), 0);
    CHECK(view_is(name, name_len, "X-Test") && view_is(value, value_len, "one"));
    CHECK_RC(c10k_request_header_at(req, 2, &name, &name_len, &value, &value_len), C10K_ENOENT);
    uint32_t minor = 9;
    CHECK_RC(c10k_request_version(req, &minor), 0);
    CHECK(minor == 1);
    CHECK_RC(c10k_request_version(req, NULL), C10K_EINVAL);
    CHECK(c10k_request_keep_alive(req));

    c10k_request_info info;
    memset(&info, 0, sizeof info);
    CHECK_RC(c10k_request_get_info(req, &info), C10K_EINVAL); /* size not set */
    info.size = sizeof info;
    CHECK_RC(c10k_request_get_info(req, &info), 0);
    CHECK(view_is(info.method, info.method_len, "GET"));
    CHECK(view_is(info.target, info.target_len, "/hello?x=%41b"));
    CHECK(view_is(info.path, info.path_len, "/hello"));
    CHECK(info.version_minor == 1 && info.keep_alive && info.header_count == 2 && info.body_len == 0);
    CHECK(info.target_form == C10K_TARGET_ORIGIN && info.scheme == NULL && info.port == -1);
    CHECK(view_is(info.host, info.host_len, "t"));

    char peer[C10K_ADDRSTRLEN];
    CHECK_RC(c10k_request_peer_addr(req, peer, sizeof peer), 0);
    CHECK(strncmp(peer, "127.0.0.1:", 10) == 0);
}

static void *complete_later(void *arg) {
    (void)arg;
    struct timespec pause = {0, 20 * 1000000L};
    nanosleep(&pause, NULL);
    uint8_t body[32] = "deferred:";
    memcpy(body + 9, t.deferred_body, t.deferred_len);
    CHECK_RC(c10k_reply_send(t.deferred, 200, &text, 1, body, 9 + t.deferred_len), 0);
    CHECK_RC(c10k_reply_send(t.deferred, 200, &text, 1, body, 1), C10K_ECLOSED); /* once only */
    return NULL;
}

static void on_request(void *user_data, c10k_request *req) {
    const uint8_t *path, *body;
    size_t path_len, body_len;
    (void)user_data;
    CHECK_RC(c10k_request_path(req, &path, &path_len), 0);

    if (view_is(path, path_len, "/hello")) {
        check_views(req);
        c10k_header headers[2] = {text, {(const uint8_t *)"X-Reply", 7, (const uint8_t *)"yes", 3}};
        CHECK_RC(c10k_respond(req, 200, headers, 2, (const uint8_t *)"hi", 2), 0);
        CHECK_RC(c10k_respond(req, 200, NULL, 0, NULL, 0), C10K_EINVAL); /* answered already */
    } else if (view_is(path, path_len, "/defer")) {
        CHECK_RC(c10k_request_body(req, &body, &body_len), 0);
        CHECK(body_len <= sizeof t.deferred_body);
        memcpy(t.deferred_body, body, body_len);
        t.deferred_len = body_len;
        CHECK_RC(c10k_request_defer(req, &t.deferred), 0);
        t.completer_started = pthread_create(&t.completer, NULL, complete_later, NULL) == 0;
        CHECK(t.completer_started);
    } else if (view_is(path, path_len, "/stream")) {
        uint64_t reply;
        CHECK_RC(c10k_request_defer(req, &reply), 0);
        CHECK_RC(c10k_reply_start(reply, 200, &text, 1, NULL), 0); /* length unknown: chunked */
        CHECK_RC(c10k_reply_write(reply, (const uint8_t *)"ab", 2), 0);
        CHECK_RC(c10k_reply_write(reply, (const uint8_t *)"cd", 2), 0);
        CHECK_RC(c10k_reply_end(reply), 0);
        CHECK_RC(c10k_reply_end(reply), C10K_ECLOSED);
    } else if (view_is(path, path_len, "/bad")) {
        c10k_header split = {(const uint8_t *)"X-Split", 7, (const uint8_t *)"a\r\nInjected: 1", 14};
        CHECK_RC(c10k_respond(req, 200, &split, 1, NULL, 0), C10K_EINVAL); /* nothing sent */
        CHECK_RC(c10k_respond(req, 500, &text, 1, (const uint8_t *)"refused", 7), 0);
    } else {
        CHECK_RC(c10k_respond(req, 204, NULL, 0, NULL, 0), 0);
    }
}

static const char requests[] =
    "GET /hello?x=%41b HTTP/1.1\r\nHost: t\r\nX-Test: one\r\n\r\n"
    "POST /defer HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"
    "GET /bad HTTP/1.1\r\nHost: t\r\n\r\n"
    "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

static void client_open(void *ud, uint64_t conn) {
    (void)ud;
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)requests, sizeof requests - 1), 0);
}

static void client_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    (void)ud;
    (void)conn;
    if (t.received_len + len < sizeof t.received) {
        memcpy(t.received + t.received_len, data, len);
        t.received_len += len;
    }
}

static void client_close(void *ud, uint64_t conn, int reason) {
    (void)ud;
    (void)conn;
    CHECK_RC(reason, 0);
    CHECK_RC(c10k_listener_close(t.listener), 0);
    /* Stops the loop once the server's side of the connection closed too. */
    CHECK_RC(c10k_timer_start(t.lp, 1, 1, check_stop_when_closed, t.lp, NULL), 0);
}

/* Whether `needle` occurs in the response text after `from`, and where. */
static const char *after(const char *from, const char *needle) {
    const char *at = from ? strstr(from, needle) : NULL;
    if (!at) {
        fprintf(stderr, "    missing in order: %s\n", needle);
    }
    return at ? at + strlen(needle) : NULL;
}

int main(void) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_data = client_data, .on_close = client_close};
    char addr[C10K_ADDRSTRLEN];
    uint64_t conn = 0;

    CHECK_RC(c10k_loop_new(&t.lp), 0);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &callbacks, NULL, &t.listener), 0);
    CHECK_RC(c10k_listener_addr(t.listener, addr, sizeof addr), 0);
    CHECK_RC(c10k_connect(t.lp, addr, &client, NULL, &conn), 0);
    CHECK_RUN(t.lp, 5000);
    if (t.completer_started) {
        pthread_join(t.completer, NULL);
    }

    t.received[t.received_len] = '\0';
    const char *at = t.received;
    at = after(at, "HTTP/1.1 200 OK\r\n");
    at = after(at, "X-Reply: yes\r\n");
    at = after(at, "Content-Length: 2\r\n\r\nhi");
    at = after(at, "Content-Length: 14\r\n\r\ndeferred:hello");
    at = after(at, "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n");
    at = after(at, "HTTP/1.1 500 Internal Server Error\r\n");
    at = after(at, "\r\n\r\nrefused");
    at = after(at, "HTTP/1.1 204 No Content\r\n");
    CHECK(at != NULL);
    CHECK(strstr(t.received, "Injected") == NULL);
    return check_finish(t.lp);
}
