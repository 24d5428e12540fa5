/* One loop holds both ends: a listener that echoes and a client made with
 * c10k_connect. The client sends a message, reads it back, and closes;
 * every callback comes in order and everything is closed at the end. */
#include <stdlib.h>

#include "pair.h"

#define MESSAGE_LEN (256 * 1024) /* several reads and writes on each side */

/* What one end saw: its callbacks in order ("o" open, "d" data, "c" close). */
typedef struct {
    char events[16];
    size_t n_events;
    size_t received;
    int close_reason;
} side;

typedef struct {
    c10k_loop *lp;
    side server, client;
    unsigned char *sent, *echoed;
    uint64_t client_conn;
    int closed;
} state;

/* Appends `e` unless it repeats the last event (on_data comes many times). */
static void record(side *s, char e) {
    if ((s->n_events == 0 || s->events[s->n_events - 1] != e) && s->n_events + 1 < sizeof s->events) {
        s->events[s->n_events++] = e;
    }
}

static void closed(state *st, side *s, int reason) {
    record(s, 'c');
    s->close_reason = reason;
    if (++st->closed == 2) {
        c10k_loop_stop(st->lp);
    }
}

static void server_open(void *ud, uint64_t conn) {
    (void)conn;
    record(&((state *)ud)->server, 'o');
}

static void server_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    state *st = ud;
    record(&st->server, 'd');
    st->server.received += len;
    CHECK(c10k_conn_write(conn, data, len) >= 0);
}

static void server_close(void *ud, uint64_t conn, int reason) {
    (void)conn;
    closed(ud, &((state *)ud)->server, reason);
}

static void client_open(void *ud, uint64_t conn) {
    state *st = ud;
    char local[C10K_ADDRSTRLEN], peer[C10K_ADDRSTRLEN];
    record(&st->client, 'o');
    CHECK(conn == st->client_conn);
    CHECK_RC(c10k_conn_local_addr(conn, local, sizeof local), 0);
    CHECK_RC(c10k_conn_peer_addr(conn, peer, sizeof peer), 0);
    CHECK(strncmp(local, "127.0.0.1:", 10) == 0 && strncmp(peer, "127.0.0.1:", 10) == 0);
    CHECK(c10k_conn_write(conn, st->sent, MESSAGE_LEN) >= 0);
}

static void client_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    state *st = ud;
    record(&st->client, 'd');
    CHECK(st->client.received + len <= MESSAGE_LEN);
    if (st->client.received + len <= MESSAGE_LEN) {
        memcpy(st->echoed + st->client.received, data, len);
    }
    st->client.received += len;
    if (st->client.received == MESSAGE_LEN) {
        CHECK_RC(c10k_conn_close(conn), 0);
    }
}

static void client_close(void *ud, uint64_t conn, int reason) {
    (void)conn;
    closed(ud, &((state *)ud)->client, reason);
}

int main(void) {
    static const c10k_conn_callbacks server_cbs = {.size = sizeof(c10k_conn_callbacks), .on_open = server_open, .on_data = server_data, .on_close = server_close};
    static const c10k_conn_callbacks client_cbs = {.size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_data = client_data, .on_close = client_close};
    state st;
    c10k_listener *listener = NULL;
    size_t i, sources = 0;

    memset(&st, 0, sizeof st);
    st.sent = malloc(MESSAGE_LEN);
    st.echoed = malloc(MESSAGE_LEN);
    CHECK(st.sent != NULL && st.echoed != NULL);
    for (i = 0; i < MESSAGE_LEN; i++) {
        st.sent[i] = (unsigned char)(i * 7 + i / 251);
    }

    CHECK_RC(c10k_loop_new(&st.lp), 0);
    CHECK_RC(pair_open(st.lp, &server_cbs, &st, &client_cbs, &st, &listener, &st.client_conn), 0);
    CHECK_RC(c10k_loop_open_handles(st.lp, &sources, NULL), 0);
    CHECK(sources == 2); /* the listener and the connecting client */
    CHECK_RUN(st.lp, 5000);

    CHECK(st.client.received == MESSAGE_LEN && st.server.received == MESSAGE_LEN);
    CHECK(memcmp(st.sent, st.echoed, MESSAGE_LEN) == 0);
    CHECK_STR(st.client.events, "odc");
    CHECK_STR(st.server.events, "odc");
    CHECK_RC(st.client.close_reason, 0);
    CHECK_RC(st.server.close_reason, 0);
    CHECK_RC(c10k_conn_write(st.client_conn, st.sent, 1), C10K_ECLOSED);

    /* The caller owns the listener: the loop refuses to go first. */
    CHECK_RC(c10k_loop_free(st.lp), C10K_EBUSY);
    CHECK_RC(c10k_listener_close(listener), 0);
    free(st.sent);
    free(st.echoed);
    return check_finish(st.lp);
}
