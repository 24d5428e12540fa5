/* An HTTP listener's user_data has a last callback, on_release, as a
 * connection's has on_close: it runs once, when the library will never use
 * user_data again (the listener closed and its last connection gone), and
 * never after a listen call that failed. A timer's rule is documented: a
 * one-shot timer's callback is its last; here its user_data is freed in it
 * (ASan and valgrind see any later use). */
#include <stdlib.h>

#include "check.h"

static struct {
    c10k_loop *lp;
    int releases;
    int failed_releases;
    uint64_t reply;
    int timer_fired;
    char received[1024];
    size_t received_len;
} t;

static void on_release(void *user_data) {
    CHECK(user_data == &t.releases);
    t.releases++;
}

static void on_failed_release(void *user_data) {
    (void)user_data;
    t.failed_releases++;
}

/* Stops the loop once the request is deferred and the timer has run. */
static void maybe_stop(void) {
    if (t.reply != 0 && t.timer_fired) {
        c10k_loop_stop(t.lp);
    }
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    /* Nothing is answered yet: the test closes the listener first. */
    CHECK_RC(c10k_request_defer(req, &t.reply), 0);
    maybe_stop();
}

static void client_open(void *user_data, uint64_t conn) {
    static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)user_data;
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)request, sizeof request - 1), 0);
}

static void client_data(void *user_data, uint64_t conn, const uint8_t *data, size_t len) {
    (void)user_data;
    if (strstr(check_append(t.received, sizeof t.received, &t.received_len, data, len), "\r\n\r\nlast") != NULL) {
        CHECK_RC(c10k_conn_close(conn), 0);
    }
}

static void one_shot(void *user_data, uint64_t timer) {
    (void)timer;
    free(user_data); /* the last use: the library never touches it again */
    t.timer_fired = 1;
    maybe_stop();
}

int main(void) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request, .on_release = on_release};
    static const c10k_http_callbacks failing = {.size = sizeof(c10k_http_callbacks), .on_request = on_request, .on_release = on_failed_release};
    static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_data = client_data};
    c10k_listener *listener = NULL, *second = NULL;
    char addr[C10K_ADDRSTRLEN];
    uint64_t conn = 0, timer = 0;
    size_t sources = 0;

    CHECK_RC(c10k_loop_new(&t.lp), 0);
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &callbacks, &t.releases, &listener), 0);
    CHECK_RC(c10k_listener_addr(listener, addr, sizeof addr), 0);

    /* A listen call that fails (the address is taken) never calls it. */
    CHECK_RC(c10k_http_listen(t.lp, addr, NULL, &failing, NULL, &second), C10K_EADDRINUSE);
    CHECK(t.failed_releases == 0);

    CHECK_RC(c10k_timer_start(t.lp, 1, 0, one_shot, malloc(16), &timer), 0);
    CHECK_RC(c10k_connect(t.lp, addr, &client, NULL, &conn), 0);
    CHECK_RUN(t.lp, 10000);

    /* Closed, but a connection it accepted still waits for its reply. */
    CHECK_RC(c10k_listener_close(listener), 0);
    CHECK(t.releases == 0);
    CHECK_RC(c10k_reply_send(t.reply, 200, NULL, 0, (const uint8_t *)"last", 4), 0);
    for (int turn = 0; turn < 1000 && t.releases == 0; turn++) {
        CHECK(c10k_loop_run_once(t.lp, 10) >= 0);
    }
    CHECK(t.releases == 1);
    CHECK(strstr(t.received, "\r\n\r\nlast") != NULL);
    CHECK_RC(c10k_loop_open_handles(t.lp, &sources, NULL), 0);
    CHECK(sources == 0);
    CHECK(t.failed_releases == 0);
    return check_finish(t.lp);
}
