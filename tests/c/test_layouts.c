/* Layouts that may grow without breaking older programs:
 * - c10k_server_stats steps through the caller's per_loop array by the
 *   caller's element size: a program built against an older, shorter
 *   c10k_stats gets its entries filled at the right offsets, and nothing
 *   past them is written (it used to step by the library's own sizeof);
 * - c10k_http_config points to its c10k_listen_options instead of
 *   embedding them (so each struct can grow): NULL means the defaults,
 *   and options given through the pointer are read (a negative backlog is
 *   refused);
 * - the *_init functions write only the caller's sizeof: a program built
 *   against an older header, whose option struct is shorter, gets its
 *   fields filled and nothing past them touched;
 * - values come back through out-parameters, never mixed with error codes
 *   in one int (c10k_loop_fd, c10k_request_version: see test_api_basics
 *   and test_http_api). */
#include "check.h"

/* c10k_stats as a program built against a shorter header would see it. */
struct old_stats {
    uint32_t size;
    uint64_t open_connections;
    uint64_t accepted;
};

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    c10k_respond(req, 204, NULL, 0, NULL, 0);
}

static void stats_take_the_callers_element_size(void) {
    c10k_server_config config;
    c10k_server *server = NULL;
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_server_config_init(&config, sizeof config);
    config.loops = 2;
    CHECK_RC(c10k_server_new(&config, &server), 0);
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, &callbacks, NULL), 0);
    CHECK_RC(c10k_server_start(server), 0);

    /* Three old entries and a guard: the server has two loops. */
    struct old_stats entries[4];
    memset(entries, 0xAB, sizeof entries);
    c10k_stats total;
    memset(&total, 0, sizeof total);
    total.size = sizeof total;
    CHECK_RC(c10k_server_stats(server, &total, (c10k_stats *)(void *)entries, 3, sizeof(struct old_stats)), 0);
    for (int i = 0; i < 2; i++) {
        CHECK(entries[i].size == sizeof(struct old_stats));
        CHECK(entries[i].open_connections == 0);
        CHECK(entries[i].accepted == 0);
    }
    /* Past the loop count, and past the array: untouched. */
    CHECK(entries[2].size == 0xABABABABu && entries[3].size == 0xABABABABu);
    CHECK(total.size == sizeof total && total.accepted == 0);

    /* An element size the library cannot write is refused. */
    c10k_stats one;
    CHECK_RC(c10k_server_stats(server, &total, &one, 1, sizeof one + 8), C10K_EINVAL);
    CHECK_RC(c10k_server_stats(server, &total, &one, 1, 2), C10K_EINVAL);
    CHECK_RC(c10k_server_stats(server, &total, NULL, 1, sizeof one), C10K_EINVAL);
    CHECK_RC(c10k_server_stats(server, &total, &one, 1, sizeof one), 0);
    CHECK(one.size == sizeof one);

    CHECK_RC(c10k_server_stop(server, 1000), 0);
    CHECK_RC(c10k_server_free(server), 0);
}

static void http_config_points_to_listen_options(c10k_loop *lp) {
    static const c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_http_config config;
    c10k_listen_options listen;
    c10k_listener *listener = NULL;
    c10k_http_config_init(&config, sizeof config);
    CHECK(config.listen == NULL); /* the defaults */
    CHECK_RC(c10k_http_listen(lp, "127.0.0.1:0", &config, &callbacks, NULL, &listener), 0);
    CHECK_RC(c10k_listener_close(listener), 0);

    c10k_listen_options_init(&listen, sizeof listen);
    listen.backlog = -1;
    config.listen = &listen;
    CHECK_RC(c10k_http_listen(lp, "127.0.0.1:0", &config, &callbacks, NULL, &listener), C10K_EINVAL);
    listen.backlog = 16;
    listen.size = sizeof listen + 4; /* newer than this library */
    CHECK_RC(c10k_http_listen(lp, "127.0.0.1:0", &config, &callbacks, NULL, &listener), C10K_EINVAL);
    listen.size = sizeof listen;
    CHECK_RC(c10k_http_listen(lp, "127.0.0.1:0", &config, &callbacks, NULL, &listener), 0);
    CHECK_RC(c10k_listener_close(listener), 0);
}

/* Calls `init` on a buffer as an older program would: only its first
 * `size` bytes may change, and `size` becomes the struct's size field. */
#define CHECK_INIT_WRITES_ONLY(init, type, size)                                                 \
    do {                                                                                           \
        union {                                                                                    \
            type value;                                                                            \
            unsigned char bytes[sizeof(type) + 16];                                                \
        } u;                                                                                       \
        size_t i, spared = 0;                                                                      \
        uint32_t got;                                                                              \
        memset(u.bytes, 0xAB, sizeof u.bytes);                                                     \
        CHECK_RC(init(&u.value, (size)), 0);                                                       \
        memcpy(&got, u.bytes, sizeof got);                                                         \
        CHECK(got == (size));                                                                      \
        for (i = (size); i < sizeof u.bytes; i++) {                                                \
            spared += u.bytes[i] == 0xAB;                                                          \
        }                                                                                          \
        CHECK(spared == sizeof u.bytes - (size));                                                  \
        CHECK_RC(init(&u.value, sizeof(type) + 8), C10K_EINVAL); /* newer than this library */     \
        CHECK_RC(init(&u.value, 2), C10K_EINVAL);                                                  \
        CHECK_RC(init(NULL, sizeof(type)), C10K_EINVAL);                                           \
    } while (0)

static void init_writes_only_the_callers_size(void) {
    CHECK_INIT_WRITES_ONLY(c10k_listen_options_init, c10k_listen_options, 8);
    CHECK_INIT_WRITES_ONLY(c10k_http_config_init, c10k_http_config, 16);
    CHECK_INIT_WRITES_ONLY(c10k_server_config_init, c10k_server_config, 8);
    CHECK_INIT_WRITES_ONLY(c10k_ws_options_init, c10k_ws_options, 16);
    CHECK_INIT_WRITES_ONLY(c10k_http_config_init, c10k_http_config, sizeof(c10k_http_config));
}

int main(void) {
    c10k_loop *lp = NULL;
    CHECK_RC(c10k_loop_new(&lp), 0);
    stats_take_the_callers_element_size();
    http_config_points_to_listen_options(lp);
    init_writes_only_the_callers_size();
    return check_finish(lp);
}
