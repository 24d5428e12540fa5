/* After C10K_EPANIC the loop can be freed. A panic inside the library
 * during a turn (made on purpose with the test-only c10k_test_loop_panic)
 * used to leave the loop marked running, so that c10k_loop_free answered
 * C10K_EBUSY and the loop leaked. Now c10k_loop_run answers C10K_EPANIC,
 * the loop refuses to run again (C10K_EPANIC), its listener closes and the
 * loop frees, everything released (valgrind and ASan see no leak). */
#include "check.h"

static int ticks;

static void on_tick(void *user_data, uint64_t timer) {
    (void)user_data;
    (void)timer;
    ticks++;
}

static void on_data(void *user_data, uint64_t conn, const uint8_t *data, size_t len) {
    (void)user_data;
    (void)data;
    (void)len;
    c10k_conn_close(conn);
}

int main(void) {
    c10k_loop *lp = NULL;
    c10k_listener *listener = NULL;
    uint64_t timer = 0;
    c10k_conn_callbacks callbacks = {.size = sizeof callbacks, .on_data = on_data};

    CHECK_RC(c10k_loop_new(&lp), 0);
    CHECK_RC(c10k_listen(lp, "127.0.0.1:0", NULL, &callbacks, NULL, &listener), 0);
    CHECK_RC(c10k_timer_start(lp, 60000, 60000, on_tick, NULL, &timer), 0);
    CHECK_RC(c10k_test_loop_panic(NULL), C10K_EINVAL);
    CHECK_RC(c10k_test_loop_panic(lp), 0);

    CHECK_RC(c10k_loop_run(lp), C10K_EPANIC);
    /* Unusable from now on, but not stuck "running". */
    CHECK_RC(c10k_loop_run(lp), C10K_EPANIC);
    CHECK_RC(c10k_loop_run_once(lp, 0), C10K_EPANIC);
    CHECK(ticks == 0);
    /* The caller's objects are still the caller's to close. */
    CHECK_RC(c10k_loop_free(lp), C10K_EBUSY);
    CHECK_RC(c10k_listener_close(listener), 0);
    CHECK_RC(c10k_loop_free(lp), 0);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}
