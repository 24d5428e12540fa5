/* A tiny test harness for the C tests: CHECK macros that count instead of
 * aborting (so one run reports every failure), a loop runner with a
 * watchdog, and the final report. Header-only: each test is one .c file. */
#ifndef C10K_TEST_CHECK_H
#define C10K_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "c10k.h"

static int check_passed;
static int check_failed;

static inline void check_result(int ok, const char *file, int line, const char *what) {
    if (ok) {
        check_passed++;
    } else {
        check_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
}

#define CHECK(cond) check_result((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Compares two c10k return codes and names both on failure. */
#define CHECK_RC(got, want) check_rc((int)(got), (int)(want), __FILE__, __LINE__, #got)

static inline void check_rc(int got, int want, const char *file, int line, const char *expr) {
    check_result(got == want, file, line, expr);
    if (got != want) {
        fprintf(stderr, "    got %d (%s), want %d (%s)\n", got, c10k_err_name(got), want, c10k_err_name(want));
    }
}

/* Appends `len` received bytes to the NUL-terminated text in `buf` (`cap`
 * bytes, `*used` of them taken); what does not fit is dropped. Returns the
 * text, for strstr. */
static inline const char *check_append(char *buf, size_t cap, size_t *used, const uint8_t *data, size_t len) {
    if (*used + len < cap) {
        memcpy(buf + *used, data, len);
        *used += len;
        buf[*used] = 0;
    }
    return buf;
}

#define CHECK_STR(got, want) check_result(strcmp((got), (want)) == 0, __FILE__, __LINE__, #got " == " #want)

static int check_timed_out;

static inline void check_watchdog(void *user_data, uint64_t timer) {
    (void)timer;
    check_timed_out = 1;
    c10k_loop_stop((c10k_loop *)user_data);
}

/* Runs `lp` until a callback calls c10k_loop_stop, failing the test (rather
 * than hanging it) after `limit_ms`. Leaves no timer behind. */
#define CHECK_RUN(lp, limit_ms) check_run((lp), (limit_ms), __FILE__, __LINE__)

static inline void check_run(c10k_loop *lp, uint64_t limit_ms, const char *file, int line) {
    uint64_t watchdog = 0;
    check_timed_out = 0;
    check_rc(c10k_timer_start(lp, limit_ms, 0, check_watchdog, lp, &watchdog), 0, file, line, "start watchdog");
    check_rc(c10k_loop_run(lp), 0, file, line, "c10k_loop_run");
    check_result(!check_timed_out, file, line, "loop stopped before the watchdog");
    if (!check_timed_out) {
        check_rc(c10k_timer_stop(watchdog), 0, file, line, "stop watchdog");
    }
}

static inline void check_stop_when_closed(void *user_data, uint64_t timer) {
    size_t sources = 1;
    c10k_loop_open_handles((c10k_loop *)user_data, &sources, NULL);
    if (sources == 0) {
        c10k_timer_stop(timer);
        c10k_loop_stop((c10k_loop *)user_data);
    }
}

/* Runs `lp` until its last source has closed: the server's side of a
 * connection closes a turn or more after the client's (lingering close). */
#define CHECK_RUN_UNTIL_CLOSED(lp, limit_ms) check_run_until_closed((lp), (limit_ms), __FILE__, __LINE__)

static inline void check_run_until_closed(c10k_loop *lp, uint64_t limit_ms, const char *file, int line) {
    check_rc(c10k_timer_start(lp, 1, 1, check_stop_when_closed, lp, NULL), 0, file, line, "start close poller");
    check_run(lp, limit_ms, file, line);
}

/* Checks that the loop has nothing open, frees it, and returns main's exit status. */
static inline int check_finish(c10k_loop *lp) {
    size_t sources = 1, timers = 1;
    if (lp != NULL) {
        CHECK_RC(c10k_loop_open_handles(lp, &sources, &timers), 0);
        CHECK(sources == 0);
        CHECK(timers == 0);
        CHECK_RC(c10k_loop_free(lp), 0);
    }
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
