/* A buggy host gets error codes, not crashes: closed, stale and made-up
 * handles, calls from the wrong thread, freeing a running loop, closing
 * twice. Also the cross-thread calls that are allowed (post, stop) and
 * timers that stop themselves. */
#include <pthread.h>

#include "pair.h"

#define POSTERS 4
#define POSTS_PER_THREAD 250

static struct {
    c10k_loop *lp;
    c10k_listener *listener;
    uint64_t client;
    int closes;
    /* Posted tasks: who posted each and the last sequence number seen per poster. */
    int task_ids[POSTERS][POSTS_PER_THREAD];
    int last_seq[POSTERS];
    int post_failures[POSTERS];
    int tasks_run;
    /* Timers. */
    uint64_t repeating;
    int one_shot_fires, repeating_fires, cancelled_fires;
} t;

static void check_made_up_handles(void) {
    static const uint64_t bogus[] = {0, 12345, UINT64_MAX};
    size_t i;
    for (i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        void *ud = NULL;
        CHECK_RC(c10k_conn_write(bogus[i], (const uint8_t *)"x", 1), C10K_ECLOSED);
        CHECK_RC(c10k_conn_close(bogus[i]), C10K_ECLOSED);
        CHECK_RC(c10k_conn_abort(bogus[i]), C10K_ECLOSED);
        CHECK_RC(c10k_conn_pause_read(bogus[i]), C10K_ECLOSED);
        CHECK_RC(c10k_conn_user_data(bogus[i], &ud), C10K_ECLOSED);
        CHECK_RC(c10k_timer_stop(bogus[i]), C10K_ECLOSED);
    }
}

/* Runs on a thread that does not own the loop: every loop-thread-only
 * call is refused and changes nothing; post and stop are allowed. */
static void *wrong_thread(void *arg) {
    uint64_t timer = 0;
    size_t sources = 0;
    (void)arg;
    CHECK_RC(c10k_conn_write(t.client, (const uint8_t *)"x", 1), C10K_EWRONGTHREAD);
    CHECK_RC(c10k_conn_close(t.client), C10K_EWRONGTHREAD);
    CHECK_RC(c10k_timer_start(t.lp, 1, 0, NULL, NULL, &timer), C10K_EWRONGTHREAD);
    CHECK(timer == 0);
    CHECK_RC(c10k_loop_open_handles(t.lp, &sources, NULL), C10K_EWRONGTHREAD);
    CHECK_RC(c10k_listener_close(t.listener), C10K_EWRONGTHREAD); /* not consumed */
    CHECK_RC(c10k_loop_free(t.lp), C10K_EWRONGTHREAD);
    return NULL;
}

static void client_open(void *ud, uint64_t conn) {
    pthread_t thread;
    (void)ud;
    CHECK(pthread_create(&thread, NULL, wrong_thread, NULL) == 0);
    CHECK(pthread_join(thread, NULL) == 0);

    CHECK_RC(c10k_loop_free(t.lp), C10K_EBUSY); /* from inside its own callback */
    CHECK_RC(c10k_conn_write(conn ^ (1ull << 32), (const uint8_t *)"x", 1), C10K_ECLOSED); /* stale generation */
    CHECK_RC(c10k_conn_close(conn), 0);
    CHECK_RC(c10k_conn_close(conn), C10K_ECLOSED); /* closing twice */
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)"x", 1), C10K_EPIPE);
}

static void on_close(void *ud, uint64_t conn, int reason) {
    (void)ud;
    CHECK_RC(reason, 0);
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)"x", 1), C10K_ECLOSED);
    CHECK_RC(c10k_conn_close(conn), C10K_ECLOSED);
    if (++t.closes == 2) {
        c10k_loop_stop(t.lp);
    }
}

static void check_connection_misuse(void) {
    static const c10k_conn_callbacks server = {.size = sizeof(c10k_conn_callbacks), .on_close = on_close};
    static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks), .on_open = client_open, .on_close = on_close};
    CHECK_RC(pair_open(t.lp, &server, NULL, &client, NULL, &t.listener, &t.client), 0);
    CHECK_RUN(t.lp, 5000);
    CHECK(t.closes == 2);
    CHECK_RC(c10k_conn_pause_read(t.client), C10K_ECLOSED);
    CHECK_RC(c10k_listener_close(t.listener), 0);
}

static void posted(void *ud, c10k_loop *lp) {
    int id = *(int *)ud, poster = id / POSTS_PER_THREAD, seq = id % POSTS_PER_THREAD;
    CHECK(lp == t.lp);
    CHECK(seq == t.last_seq[poster] + 1); /* one poster's tasks keep their order */
    t.last_seq[poster] = seq;
    if (++t.tasks_run == POSTERS * POSTS_PER_THREAD) {
        CHECK_RC(c10k_loop_stop(lp), 0);
    }
}

/* CHECK is not thread-safe: a poster counts its own failures, checked after join. */
static void *poster(void *arg) {
    int *ids = arg, i, poster_index = ids[0] / POSTS_PER_THREAD;
    for (i = 0; i < POSTS_PER_THREAD; i++) {
        t.post_failures[poster_index] += c10k_loop_post(t.lp, posted, &ids[i]) != 0;
    }
    return NULL;
}

static void check_posts_from_threads(void) {
    pthread_t threads[POSTERS];
    int p, i;
    for (p = 0; p < POSTERS; p++) {
        t.last_seq[p] = -1;
        for (i = 0; i < POSTS_PER_THREAD; i++) {
            t.task_ids[p][i] = p * POSTS_PER_THREAD + i;
        }
        CHECK(pthread_create(&threads[p], NULL, poster, t.task_ids[p]) == 0);
    }
    CHECK_RUN(t.lp, 5000);
    for (p = 0; p < POSTERS; p++) {
        CHECK(pthread_join(threads[p], NULL) == 0);
        CHECK(t.post_failures[p] == 0);
    }
    CHECK(t.tasks_run == POSTERS * POSTS_PER_THREAD);
}

static void one_shot(void *ud, uint64_t timer) {
    (void)ud;
    (void)timer;
    t.one_shot_fires++;
}

static void repeating(void *ud, uint64_t timer) {
    (void)ud;
    CHECK(timer == t.repeating);
    if (++t.repeating_fires == 3) {
        CHECK_RC(c10k_timer_stop(timer), 0); /* from its own callback */
    }
}

static void cancelled(void *ud, uint64_t timer) {
    (void)ud;
    (void)timer;
    t.cancelled_fires++;
}

static void stop_loop(void *ud, uint64_t timer) {
    (void)timer;
    CHECK_RC(c10k_loop_stop(ud), 0);
}

static void check_timers(void) {
    uint64_t once = 0, never = 0;
    int64_t wait_ms = 0;
    CHECK_RC(c10k_timer_start(t.lp, 1, 0, one_shot, NULL, &once), 0);
    CHECK_RC(c10k_timer_start(t.lp, 1, 1, repeating, NULL, &t.repeating), 0);
    CHECK_RC(c10k_timer_start(t.lp, 1, 0, cancelled, NULL, &never), 0);
    CHECK_RC(c10k_timer_stop(never), 0);
    CHECK_RC(c10k_timer_stop(never), C10K_ECLOSED);
    CHECK_RC(c10k_timer_start(t.lp, 50, 0, stop_loop, t.lp, NULL), 0);
    CHECK_RC(c10k_loop_next_timeout(t.lp, &wait_ms), 0);
    CHECK(wait_ms >= 0 && wait_ms <= 50);
    CHECK_RUN(t.lp, 5000);
    CHECK(t.one_shot_fires == 1);
    CHECK(t.repeating_fires == 3);
    CHECK(t.cancelled_fires == 0);
    CHECK_RC(c10k_timer_stop(once), C10K_ECLOSED);
    CHECK_RC(c10k_timer_stop(t.repeating), C10K_ECLOSED);
}

int main(void) {
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    check_made_up_handles();
    check_connection_misuse();
    check_posts_from_threads();
    check_timers();
    return check_finish(t.lp);
}
