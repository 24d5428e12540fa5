/* Helpers shared by the C programs of bench/ (each built alone with cc). */
#ifndef BENCH_C_H
#define BENCH_C_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC for times, CLOCK_THREAD_CPUTIME_ID for the thread's CPU. */
static inline int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* qsort order of int64_t. */
static inline int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static inline void die(const char *what) {
    perror(what);
    exit(1);
}

#endif
