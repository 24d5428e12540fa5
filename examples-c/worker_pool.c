/* worker_pool: blocking handlers on a worker pool.
 *
 *   GET /sleep?ms=N -> sleeps N ms on a pool thread, then 200 "slept N ms"
 *   GET /           -> 200 "Hello, World!"
 *
 * Usage: worker_pool [ADDR] [--workers N] [--loops N]   (defaults 64, 1)
 * The loop reads each request, a pool thread runs the handler (blocking is
 * fine there), the loop writes the answer. A full queue answers 503. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <time.h>

static const c10k_header text_plain[] = {HEADER("Content-Type", "text/plain")};

/* The value of `ms=` in the query, or 0. */
static unsigned sleep_ms(c10k_request *req) {
    const uint8_t *query;
    size_t len;
    if (c10k_request_query(req, &query, &len) != 0 || len < 4 || memcmp(query, "ms=", 3) != 0) {
        return 0;
    }
    unsigned ms = 0;
    for (size_t i = 3; i < len && query[i] >= '0' && query[i] <= '9' && ms < 60000; i++) {
        ms = ms * 10 + (unsigned)(query[i] - '0');
    }
    return ms;
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    const uint8_t *path;
    size_t path_len;
    c10k_request_path(req, &path, &path_len);
    if (view_is(path, path_len, "/sleep")) {
        unsigned ms = sleep_ms(req);
        struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        char body[32];
        int n = snprintf(body, sizeof body, "slept %u ms\n", ms);
        c10k_respond(req, 200, text_plain, 1, (const uint8_t *)body, (size_t)n);
    } else if (view_is(path, path_len, "/")) {
        c10k_respond(req, 200, text_plain, 1, (const uint8_t *)"Hello, World!", 13);
    } else {
        c10k_respond(req, 404, text_plain, 1, (const uint8_t *)"Not Found\n", 10);
    }
}

int main(int argc, char **argv) {
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    unsigned workers = option(argc, argv, "--workers", 64);
    c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), workers ? workers : 1, &callbacks, NULL);
    return server ? serve_until_signal(server) : 1;
}
