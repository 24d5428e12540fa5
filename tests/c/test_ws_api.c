/* The WebSocket API from C: a handshake accepted with a subprotocol the
 * client offered and an extra header, a message echoed, a close started by
 * the server and answered by the client, and the misuses answered with
 * their codes. Client and server share one loop; the client is a plain
 * connection that writes frames by hand. */
#include <stdlib.h>

#include "check.h"

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    uint8_t received[4096];
    size_t received_len;
    int answered_close;
    int opened, closed;
    uint16_t close_code;
    uint64_t ws;
    int marker;
} t;

static void ws_open(void *user_data, uint64_t ws) {
    CHECK(user_data == &t.marker);
    t.opened++;
    t.ws = ws;
    char peer[C10K_ADDRSTRLEN];
    CHECK_RC(c10k_ws_peer_addr(ws, peer, sizeof peer), 0);
    CHECK(strncmp(peer, "127.0.0.1:", 10) == 0);
    uint64_t conn = 0;
    CHECK_RC(c10k_ws_conn(ws, &conn), 0);
    CHECK(conn != 0 && conn != ws);
    /* A connection handle is not a WebSocket handle, and 0 is no handle. */
    CHECK_RC(c10k_ws_send(conn, (const uint8_t *)"x", 1, false), C10K_EINVAL);
    CHECK_RC(c10k_ws_send(0, (const uint8_t *)"x", 1, false), C10K_ECLOSED);
}

static void ws_message(void *user_data, uint64_t ws, const uint8_t *data, size_t len, bool binary) {
    CHECK(user_data == &t.marker);
    CHECK(!binary && len == 5 && memcmp(data, "hello", 5) == 0);
    CHECK_RC(c10k_ws_send(ws, NULL, 3, false), C10K_EINVAL);
    CHECK_RC(c10k_ws_send(ws, (const uint8_t *)"\xff", 1, false), C10K_EINVAL); /* not UTF-8 */
    static const uint8_t big[126];
    CHECK_RC(c10k_ws_ping(ws, big, sizeof big), C10K_EINVAL);
    CHECK_RC(c10k_ws_close(ws, 1005, (const uint8_t *)"x", 1), C10K_EINVAL);
    CHECK_RC(c10k_ws_close(ws, 999, NULL, 0), C10K_EINVAL);
    CHECK_RC(c10k_ws_send(ws, data, len, false), 0);
    size_t sent = 9;
    CHECK_RC(c10k_ws_broadcast(&ws, 1, (const uint8_t *)"all", 3, true, &sent), 0);
    CHECK(sent == 1);
    CHECK_RC(c10k_ws_broadcast(NULL, 1, (const uint8_t *)"all", 3, true, NULL), C10K_EINVAL);
    CHECK_RC(c10k_ws_close(ws, 1000, (const uint8_t *)"done", 4), 0);
    CHECK_RC(c10k_ws_close(ws, 1000, NULL, 0), C10K_ECLOSED);
    CHECK_RC(c10k_ws_send(ws, data, len, false), C10K_ECLOSED);
}

static void ws_close(void *user_data, uint64_t ws, uint16_t code, const uint8_t *reason, size_t len) {
    (void)reason, (void)len;
    CHECK(user_data == &t.marker);
    CHECK(ws == t.ws);
    t.closed++;
    t.close_code = code;
}

static const c10k_ws_callbacks ws_callbacks = {
    .size = sizeof(c10k_ws_callbacks),
    .on_open = ws_open,
    .on_message = ws_message,
    .on_close = ws_close,
};

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    CHECK(c10k_ws_is_upgrade(req));
    const uint8_t *p;
    size_t n;
    CHECK_RC(c10k_ws_subprotocol(req, 0, &p, &n), 0);
    CHECK(n == 1 && p[0] == 'a');
    CHECK_RC(c10k_ws_subprotocol(req, 1, &p, &n), 0);
    CHECK(n == 4 && memcmp(p, "chat", 4) == 0);
    CHECK_RC(c10k_ws_subprotocol(req, 2, &p, &n), C10K_ENOENT);

    c10k_ws_options opts;
    c10k_ws_options_init(&opts, sizeof opts);
    CHECK(opts.size == sizeof opts && opts.max_message_bytes > 0);
    opts.subprotocol = (const uint8_t *)"nope";
    opts.subprotocol_len = 4;
    uint64_t ws = 0;
    CHECK_RC(c10k_ws_accept(req, &opts, &ws_callbacks, &t.marker, &ws), C10K_EINVAL); /* not offered */
    CHECK(ws == 0);
    CHECK_RC(c10k_ws_accept(req, &opts, NULL, &t.marker, &ws), C10K_EINVAL);
    static const c10k_header extra = {(const uint8_t *)"X-Extra", 7, (const uint8_t *)"1", 1};
    opts.subprotocol = p;
    opts.subprotocol_len = n;
    opts.headers = &extra;
    opts.header_count = 1;
    CHECK_RC(c10k_ws_accept(req, &opts, &ws_callbacks, &t.marker, &ws), 0);
    CHECK(ws != 0);
    CHECK_RC(c10k_ws_accept(req, &opts, &ws_callbacks, &t.marker, NULL), C10K_EINVAL); /* once */
}

/* A masked client frame (payload under 126 bytes). */
static size_t client_frame(uint8_t *out, uint8_t opcode, const char *payload, size_t len) {
    static const uint8_t key[4] = {1, 2, 3, 4};
    out[0] = 0x80 | opcode;
    out[1] = 0x80 | (uint8_t)len;
    memcpy(out + 2, key, 4);
    for (size_t i = 0; i < len; i++) {
        out[6 + i] = (uint8_t)payload[i] ^ key[i % 4];
    }
    return 6 + len;
}

static const char handshake[] =
    "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: a, chat\r\n\r\n";

static void client_open(void *ud, uint64_t conn) {
    (void)ud;
    uint8_t frame[64];
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)handshake, sizeof handshake - 1), 0);
    CHECK_RC(c10k_conn_write(conn, frame, client_frame(frame, 1, "hello", 5)), 0);
}

static const uint8_t close_frame[] = {0x88, 6, 0x03, 0xe8, 'd', 'o', 'n', 'e'};

static void client_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    (void)ud;
    if (t.received_len + len <= sizeof t.received) {
        memcpy(t.received + t.received_len, data, len);
        t.received_len += len;
    }
    size_t n = sizeof close_frame;
    if (!t.answered_close && t.received_len >= n && memcmp(t.received + t.received_len - n, close_frame, n) == 0) {
        uint8_t frame[16];
        t.answered_close = 1;
        CHECK_RC(c10k_conn_write(conn, frame, client_frame(frame, 8, "\x03\xe8", 2)), 0);
    }
}

static void client_close(void *ud, uint64_t conn, int reason) {
    (void)ud, (void)conn;
    CHECK_RC(reason, 0); /* the server closed cleanly */
    CHECK_RC(c10k_listener_close(t.listener), 0);
    CHECK_RC(c10k_timer_start(t.lp, 1, 1, check_stop_when_closed, t.lp, NULL), 0);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

int main(void) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    static const c10k_conn_callbacks client = {
        .size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_data = client_data, .on_close = client_close};
    char addr[C10K_ADDRSTRLEN];
    uint64_t conn = 0;

    CHECK_RC(c10k_ws_options_init(NULL, sizeof(c10k_ws_options)), C10K_EINVAL);
    CHECK_RC(c10k_ws_accept(NULL, NULL, &ws_callbacks, NULL, NULL), C10K_EINVAL);
    CHECK(!c10k_ws_is_upgrade(NULL));
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &callbacks, NULL, &t.listener), 0);
    CHECK_RC(c10k_listener_addr(t.listener, addr, sizeof addr), 0);
    CHECK_RC(c10k_connect(t.lp, addr, &client, NULL, &conn), 0);
    CHECK_RUN(t.lp, 5000);

    const uint8_t *r = t.received;
    size_t n = t.received_len;
    CHECK(n > 12 && memcmp(r, "HTTP/1.1 101 ", 13) == 0);
    CHECK(find(r, n, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", 52) != NULL);
    CHECK(find(r, n, "Sec-WebSocket-Protocol: chat\r\n", 30) != NULL);
    CHECK(find(r, n, "X-Extra: 1\r\n", 12) != NULL);
    const uint8_t *body = find(r, n, "\r\n\r\n", 4);
    static const uint8_t frames[] = {0x81, 5, 'h', 'e', 'l', 'l', 'o', 0x82, 3, 'a', 'l', 'l',
                                     0x88, 6, 0x03, 0xe8, 'd', 'o', 'n', 'e'};
    CHECK(body != NULL && (size_t)(r + n - (body + 4)) == sizeof frames && memcmp(body + 4, frames, sizeof frames) == 0);
    CHECK(t.opened == 1 && t.closed == 1 && t.close_code == 1000);
    CHECK_RC(c10k_ws_send(t.ws, (const uint8_t *)"late", 4, false), C10K_ECLOSED);
    return check_finish(t.lp);
}
