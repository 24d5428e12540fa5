/* Every handle knows its kind: a connection, a timer and a deferred reply
 * given to a function of another kind answer C10K_EINVAL and change
 * nothing. On a fresh loop the first timer and the first connection used to
 * get the same number, so c10k_conn_close(timer) closed the connection.
 * Each pair of kinds is tried while all three are alive; afterwards each
 * handle still works with its own functions. */
#include "check.h"

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    uint64_t timers[2], client, reply;
    int ticks, checked;
    char received[1024];
    size_t received_len;
    int client_closed;
} t;

static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/* Calls every function of each kind with the handle of another kind. */
static void check_every_pair(uint64_t timer) {
    const uint64_t conn = t.client, reply = t.reply;
    const uint64_t foreign_to_conn[] = {timer, reply};
    const uint64_t foreign_to_timer[] = {conn, reply};
    const uint64_t foreign_to_reply[] = {conn, timer};
    char addr[C10K_ADDRSTRLEN];
    void *ud = NULL;
    uint64_t pending = 0;
    const uint64_t length = 1;

    CHECK(conn != timer && conn != reply && timer != reply);
    for (size_t i = 0; i < 2; i++) {
        uint64_t h = foreign_to_conn[i];
        CHECK_RC(c10k_conn_write(h, (const uint8_t *)"x", 1), C10K_EINVAL);
        CHECK_RC(c10k_conn_write_owned(h, (const uint8_t *)"x", 1, NULL, NULL), C10K_EINVAL);
        CHECK_RC(c10k_conn_sendfile(h, 0, 0, 1), C10K_EINVAL);
        CHECK_RC(c10k_conn_pause_read(h), C10K_EINVAL);
        CHECK_RC(c10k_conn_resume_read(h), C10K_EINVAL);
        CHECK_RC(c10k_conn_shutdown(h), C10K_EINVAL);
        CHECK_RC(c10k_conn_close(h), C10K_EINVAL);
        CHECK_RC(c10k_conn_abort(h), C10K_EINVAL);
        CHECK_RC(c10k_conn_set_user_data(h, &t), C10K_EINVAL);
        CHECK_RC(c10k_conn_user_data(h, &ud), C10K_EINVAL);
        CHECK_RC(c10k_conn_peer_addr(h, addr, sizeof addr), C10K_EINVAL);
        CHECK_RC(c10k_conn_local_addr(h, addr, sizeof addr), C10K_EINVAL);
        CHECK_RC(c10k_conn_set_idle_timeout(h, 1), C10K_EINVAL);
        CHECK_RC(c10k_conn_set_write_marks(h, 1, 2), C10K_EINVAL);
        CHECK_RC(c10k_conn_pending(h, &pending), C10K_EINVAL);
    }
    for (size_t i = 0; i < 2; i++) {
        CHECK_RC(c10k_timer_stop(foreign_to_timer[i]), C10K_EINVAL);
    }
    for (size_t i = 0; i < 2; i++) {
        uint64_t h = foreign_to_reply[i];
        CHECK_RC(c10k_reply_send(h, 200, NULL, 0, (const uint8_t *)"x", 1), C10K_EINVAL);
        CHECK_RC(c10k_reply_send_file(h, 200, NULL, 0, 0, 0, 1), C10K_EINVAL);
        CHECK_RC(c10k_reply_start(h, 200, NULL, 0, &length), C10K_EINVAL);
        CHECK_RC(c10k_reply_write(h, (const uint8_t *)"x", 1), C10K_EINVAL);
        CHECK_RC(c10k_reply_end(h), C10K_EINVAL);
        CHECK_RC(c10k_reply_resume_body(h), C10K_EINVAL);
        CHECK_RC(c10k_reply_abort(h), C10K_EINVAL);
    }
}

static void on_tick(void *user_data, uint64_t timer) {
    (void)user_data;
    CHECK(timer == t.timers[0] || timer == t.timers[1]);
    t.ticks++;
    if (t.reply != 0 && !t.checked) {
        /* All three kinds are alive now: try every pair. The timers have
         * slots 0 and 1, like the first reply and the client connection. */
        t.checked = 1;
        check_every_pair(t.timers[0]);
        check_every_pair(t.timers[1]);
        /* Nothing happened to any of them: each works with its own calls. */
        uint64_t pending = 1;
        CHECK_RC(c10k_conn_pending(t.client, &pending), 0);
        CHECK_RC(c10k_reply_send(t.reply, 200, NULL, 0, (const uint8_t *)"kinds", 5), 0);
    }
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    CHECK_RC(c10k_request_defer(req, &t.reply), 0);
}

static void client_open(void *user_data, uint64_t conn) {
    (void)user_data;
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)request, sizeof request - 1), 0);
}

static void client_data(void *user_data, uint64_t conn, const uint8_t *data, size_t len) {
    (void)user_data;
    if (strstr(check_append(t.received, sizeof t.received, &t.received_len, data, len), "\r\n\r\nkinds") != NULL) {
        /* The repeating timers were never stopped by the foreign calls. */
        CHECK(t.checked);
        CHECK_RC(c10k_timer_stop(t.timers[0]), 0);
        CHECK_RC(c10k_timer_stop(t.timers[1]), 0);
        CHECK_RC(c10k_conn_close(conn), 0);
    }
}

static void client_close(void *user_data, uint64_t conn, int reason) {
    (void)user_data;
    (void)conn;
    CHECK_RC(reason, 0);
    t.client_closed = 1;
    c10k_loop_stop(t.lp);
}

/* Runs the loop until only the listener is left open: the server's end of
 * the connection closes once it sees the client's FIN. */
static void settle(void) {
    size_t sources = 0;
    for (int turn = 0; turn < 1000; turn++) {
        CHECK_RC(c10k_loop_open_handles(t.lp, &sources, NULL), 0);
        if (sources == 1) {
            return;
        }
        CHECK(c10k_loop_run_once(t.lp, 10) >= 0);
    }
    CHECK(sources == 1);
}

int main(void) {
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    /* Timers first, so their numbers would match the connections' on a
     * loop whose handles do not carry their kind. */
    CHECK_RC(c10k_timer_start(t.lp, 5, 5, on_tick, NULL, &t.timers[0]), 0);
    CHECK_RC(c10k_timer_start(t.lp, 5, 5, on_tick, NULL, &t.timers[1]), 0);
    c10k_http_callbacks http = {.size = sizeof http, .on_request = on_request};
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &http, NULL, &t.listener), 0);
    char addr[C10K_ADDRSTRLEN];
    CHECK_RC(c10k_listener_addr(t.listener, addr, sizeof addr), 0);
    c10k_conn_callbacks client = {.size = sizeof client, .on_open = client_open, .on_data = client_data, .on_close = client_close};
    CHECK_RC(c10k_connect(t.lp, addr, &client, NULL, &t.client), 0);

    CHECK_RUN(t.lp, 10000);
    CHECK(t.client_closed);
    CHECK(strncmp(t.received, "HTTP/1.1 200", 12) == 0);
    settle();
    CHECK_RC(c10k_listener_close(t.listener), 0);
    return check_finish(t.lp);
}
