/* chat: a WebSocket chat room on c10k.
 *
 *     chat [ADDR] [--loops N]
 *
 * ADDR defaults to 127.0.0.1:8080 (port 0 picks one). Every path accepts
 * a WebSocket; every message a client sends is broadcast, as it came
 * (text or binary), to every connected client, the sender included. Prints
 * "listening on ADDR" once ready; SIGINT or SIGTERM close the WebSockets
 * with 1001 and exit with status 0.
 *
 * c10k_ws_broadcast builds the frame once and queues that one buffer on
 * every connection, across loops: a message to 10,000 clients costs one
 * copy. The room is a plain array of handles behind a mutex, since with
 * --loops N the callbacks run on N threads. */
#include "common.h"

#include <pthread.h>

static struct {
    pthread_mutex_t lock;
    uint64_t *members;
    size_t count, capacity;
} room = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static void on_open(void *user_data, uint64_t ws) {
    (void)user_data;
    pthread_mutex_lock(&room.lock);
    if (room.count == room.capacity) {
        size_t capacity = room.capacity ? room.capacity * 2 : 1024;
        uint64_t *grown = realloc(room.members, capacity * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&room.lock);
            c10k_ws_close(ws, 1011, (const uint8_t *)"room full", 9);
            return;
        }
        room.members = grown;
        room.capacity = capacity;
    }
    room.members[room.count++] = ws;
    pthread_mutex_unlock(&room.lock);
}

/* Removes a member: the last one takes its place (order does not matter). */
static void on_close(void *user_data, uint64_t ws, uint16_t code, const uint8_t *reason, size_t len) {
    (void)user_data, (void)code, (void)reason, (void)len;
    pthread_mutex_lock(&room.lock);
    for (size_t i = 0; i < room.count; i++) {
        if (room.members[i] == ws) {
            room.members[i] = room.members[--room.count];
            break;
        }
    }
    pthread_mutex_unlock(&room.lock);
}

/* Broadcasting under the lock keeps the messages in one order for
 * everyone: two senders cannot interleave their copies. */
static void on_message(void *user_data, uint64_t ws, const uint8_t *data, size_t len, bool binary) {
    (void)user_data, (void)ws;
    pthread_mutex_lock(&room.lock);
    c10k_ws_broadcast(room.members, room.count, data, len, binary, NULL);
    pthread_mutex_unlock(&room.lock);
}

static const c10k_ws_callbacks ws_callbacks = {
    .size = sizeof(c10k_ws_callbacks),
    .on_open = on_open,
    .on_message = on_message,
    .on_close = on_close,
};

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    if (c10k_ws_is_upgrade(req)) {
        c10k_ws_accept(req, NULL, &ws_callbacks, NULL, NULL);
        return;
    }
    respond_websocket_only(req, "this server is a WebSocket chat room\n");
}

int main(int argc, char **argv) {
    static const c10k_http_callbacks callbacks = {
        .size = sizeof(c10k_http_callbacks),
        .on_request = on_request,
    };
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), 0, &callbacks, NULL);
    int rc = server ? serve_until_signal(server) : 1;
    free(room.members);
    return rc;
}
