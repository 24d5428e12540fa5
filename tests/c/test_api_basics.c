/* Versions, error names, and argument checking: NULL and malformed input
 * give C10K_EINVAL, never a crash. */
#include <stdio.h>

#include "check.h"

static const c10k_conn_callbacks no_callbacks = {.size = sizeof(c10k_conn_callbacks)};

static void check_versions(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", C10K_VERSION_MAJOR, C10K_VERSION_MINOR, C10K_VERSION_PATCH);
    CHECK_STR(c10k_version(), expected);
    CHECK(C10K_VERSION_HEX == ((C10K_VERSION_MAJOR << 16) | (C10K_VERSION_MINOR << 8) | C10K_VERSION_PATCH));
    CHECK(c10k_version_hex() == C10K_VERSION_HEX);
    CHECK(c10k_abi_version() == C10K_ABI_VERSION);
}

static void check_error_names(void) {
    CHECK_STR(c10k_err_name(C10K_OK), "C10K_OK");
    CHECK_STR(c10k_err_name(C10K_EINVAL), "C10K_EINVAL");
    CHECK_STR(c10k_strerror(C10K_EINVAL), "invalid argument");
    CHECK_STR(c10k_err_name(C10K_ECLOSED), "C10K_ECLOSED");
    CHECK_STR(c10k_strerror(C10K_ECLOSED), "handle is closed or stale");
    CHECK_STR(c10k_err_name(C10K_EWRONGTHREAD), "C10K_EWRONGTHREAD");
    CHECK(C10K_ECONNREFUSED == -111);
    CHECK_STR(c10k_err_name(C10K_ECONNREFUSED), "C10K_ECONNREFUSED");
    CHECK_STR(c10k_err_name(12345), "C10K_UNKNOWN");
    CHECK_STR(c10k_strerror(12345), "unknown error code");
    CHECK_STR(c10k_err_name(C10K_QUEUE_FULL), "C10K_UNKNOWN");
}

/* Every loop-level call refuses a NULL loop or NULL required pointer. */
static void check_null_arguments(c10k_loop *lp) {
    c10k_listener *listener = NULL;
    uint64_t conn = 0;
    int64_t ms = 0;
    int32_t fd = -1;

    CHECK_RC(c10k_loop_new(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_free(NULL), 0);
    CHECK_RC(c10k_loop_run(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_run_once(NULL, 0), C10K_EINVAL);
    CHECK_RC(c10k_loop_stop(NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_post(NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_post(lp, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_fd(NULL, &fd), C10K_EINVAL);
    CHECK_RC(c10k_loop_fd(lp, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_next_timeout(NULL, &ms), C10K_EINVAL);
    CHECK_RC(c10k_loop_next_timeout(lp, NULL), C10K_EINVAL);
    CHECK_RC(c10k_loop_next_timeout(lp, &ms), 0);
    CHECK(ms == -1); /* no timer was ever set */
    CHECK_RC(c10k_loop_open_handles(NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_timer_start(NULL, 1, 0, NULL, NULL, NULL), C10K_EINVAL);
    CHECK_RC(c10k_timer_start(lp, 1, 0, NULL, NULL, NULL), C10K_EINVAL);

    CHECK_RC(c10k_listen(NULL, "127.0.0.1:0", NULL, &no_callbacks, NULL, &listener), C10K_EINVAL);
    CHECK_RC(c10k_listen(lp, NULL, NULL, &no_callbacks, NULL, &listener), C10K_EINVAL);
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", NULL, NULL, NULL, &listener), C10K_EINVAL);
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", NULL, &no_callbacks, NULL, NULL), C10K_EINVAL);
    CHECK(listener == NULL);
    CHECK_RC(c10k_listener_close(NULL), 0);
    CHECK_RC(c10k_listener_addr(NULL, NULL, 0), C10K_EINVAL);
    CHECK_RC(c10k_listener_set_accepting(NULL, true), C10K_EINVAL);

    CHECK_RC(c10k_connect(NULL, "127.0.0.1:1", &no_callbacks, NULL, &conn), C10K_EINVAL);
    CHECK_RC(c10k_connect(lp, NULL, &no_callbacks, NULL, &conn), C10K_EINVAL);
    CHECK_RC(c10k_connect(lp, "127.0.0.1:1", NULL, NULL, &conn), C10K_EINVAL);
    CHECK(conn == 0);
    CHECK_RC(c10k_conn_write(conn, NULL, 1), C10K_EINVAL);
    CHECK_RC(c10k_listen_options_init(NULL, sizeof(c10k_listen_options)), C10K_EINVAL);
}

/* Host names would block in a resolver; malformed strings are refused. */
static void check_bad_addresses(c10k_loop *lp) {
    static const char *const bad[] = {"localhost:80", "1.2.3.4", "", "127.0.0.1:", "127.0.0.1:99999", "::1:80"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c10k_listener *listener = NULL;
        uint64_t conn = 0;
        CHECK_RC(c10k_listen(lp, bad[i], NULL, &no_callbacks, NULL, &listener), C10K_EINVAL);
        CHECK_RC(c10k_connect(lp, bad[i], &no_callbacks, NULL, &conn), C10K_EINVAL);
        CHECK(listener == NULL && conn == 0);
    }
}

/* An options struct from another version of the header (wrong size) is
 * refused; one from c10k_listen_options_init works. */
static void check_listen_options(c10k_loop *lp) {
    c10k_listen_options opts;
    c10k_listener *listener = NULL;
    char addr[C10K_ADDRSTRLEN];

    c10k_listen_options_init(&opts, sizeof opts);
    CHECK(opts.size == sizeof opts);
    opts.size = (uint32_t)sizeof opts + 4; /* from a newer header than the library */
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", &opts, &no_callbacks, NULL, &listener), C10K_EINVAL);
    opts.size = 0;
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", &opts, &no_callbacks, NULL, &listener), C10K_EINVAL);
    CHECK(listener == NULL);

    c10k_listen_options_init(&opts, sizeof opts);
    opts.backlog = 16;
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", &opts, &no_callbacks, NULL, &listener), 0);
    CHECK_RC(c10k_listener_addr(listener, addr, 4), C10K_ENOMEM);
    CHECK_RC(c10k_listener_addr(listener, NULL, sizeof addr), C10K_EINVAL);
    CHECK_RC(c10k_listener_addr(listener, addr, sizeof addr), 0);
    CHECK(strncmp(addr, "127.0.0.1:", 10) == 0 && strcmp(addr, "127.0.0.1:0") != 0);
    CHECK_RC(c10k_listener_close(listener), 0);
}

int main(void) {
    c10k_loop *lp = NULL;
    check_versions();
    check_error_names();
    CHECK_RC(c10k_loop_new(&lp), 0);
    int32_t fd = -1;
    CHECK_RC(c10k_loop_fd(lp, &fd), 0);
    CHECK(fd >= 0);
    check_null_arguments(lp);
    check_bad_addresses(lp);
    check_listen_options(lp);
    return check_finish(lp);
}
