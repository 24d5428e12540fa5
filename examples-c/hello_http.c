/* hello_http: the benchmark server.
 *
 *   GET /       -> 200 "Hello, World!" (text/plain)
 *   POST /echo  -> 200 with the request body
 *   otherwise   -> 404
 *
 * Usage: hello_http [ADDR] [--loops N]   (default 127.0.0.1:8080, 1 loop)
 * Handlers run inline on the loop threads: they answer at once. */
#include "common.h"

static const c10k_header text_plain[] = {HEADER("Content-Type", "text/plain")};

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    const uint8_t *method, *path, *body;
    size_t method_len, path_len, body_len;
    c10k_request_method(req, &method, &method_len);
    c10k_request_path(req, &path, &path_len);

    int get = view_is(method, method_len, "GET") || view_is(method, method_len, "HEAD");
    if (get && view_is(path, path_len, "/")) {
        c10k_respond(req, 200, text_plain, 1, (const uint8_t *)"Hello, World!", 13);
    } else if (view_is(method, method_len, "POST") && view_is(path, path_len, "/echo")) {
        c10k_request_body(req, &body, &body_len);
        c10k_respond(req, 200, text_plain, 1, body, body_len);
    } else {
        c10k_respond(req, 404, text_plain, 1, (const uint8_t *)"Not Found\n", 10);
    }
}

int main(int argc, char **argv) {
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), 0, &callbacks, NULL);
    return server ? serve_until_signal(server) : 1;
}
