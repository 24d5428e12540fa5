/* websocket_echo: a WebSocket echo server on c10k.
 *
 *     websocket_echo [ADDR] [--loops N] [--max-message BYTES]
 *
 * ADDR defaults to 127.0.0.1:8080 (port 0 picks one). Every path accepts
 * a WebSocket and sends every message back, text as text and binary as
 * binary; a plain HTTP request gets 426 Upgrade Required. Prints
 * "listening on ADDR" once ready and exits with status 0 on SIGINT or
 * SIGTERM, after closing open WebSockets with 1001 (going away).
 *
 * The library does the protocol: handshake, unmasking, reassembly of
 * fragments, UTF-8 checks, pongs, the close handshake and the close codes
 * of protocol errors. The host only sees whole messages. */
#include "common.h"

static c10k_ws_options ws_options;

/* Sends the message back. c10k_ws_send copies it, so `data` (borrowed
 * for this call) may go away when we return. */
static void on_message(void *user_data, uint64_t ws, const uint8_t *data, size_t len, bool binary) {
    (void)user_data;
    if (c10k_ws_send(ws, data, len, binary) == C10K_QUEUE_FULL) {
        /* The client reads slower than it sends: stop reading until our
         * queue drains, so memory stays bounded and TCP slows the client. */
        c10k_ws_pause_read(ws);
    }
}

static void on_drain(void *user_data, uint64_t ws) {
    (void)user_data;
    c10k_ws_resume_read(ws);
}

static const c10k_ws_callbacks ws_callbacks = {
    .size = sizeof(c10k_ws_callbacks),
    .on_message = on_message,
    .on_drain = on_drain,
};

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    if (c10k_ws_is_upgrade(req)) {
        /* A wrong handshake is answered by the library (400 or 426). */
        c10k_ws_accept(req, &ws_options, &ws_callbacks, NULL, NULL);
        return;
    }
    respond_websocket_only(req, "this server speaks WebSocket: every message is echoed\n");
}

int main(int argc, char **argv) {
    static const c10k_http_callbacks callbacks = {
        .size = sizeof(c10k_http_callbacks),
        .on_request = on_request,
    };
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    c10k_ws_options_init(&ws_options, sizeof ws_options);
    unsigned max_message = option(argc, argv, "--max-message", 0);
    if (max_message != 0) {
        ws_options.max_message_bytes = max_message;
        ws_options.max_frame_bytes = max_message;
    }
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), 0, &callbacks, NULL);
    return server ? serve_until_signal(server) : 1;
}
