/* deferred: every request is answered later, from another thread.
 *
 * The handler keeps a reply handle and returns at once; a "database"
 * thread completes each reply --delay-ms later (default 50) with
 * c10k_reply_send, which is thread-safe. Thousands of pending replies cost
 * no threads and no blocked loop.
 *
 * Usage: deferred [ADDR] [--delay-ms N] [--loops N] */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <pthread.h>
#include <time.h>

/* Replies waiting for their time, in arrival order: the delay is the same
 * for all, so arrival order is due order and a FIFO is enough. */
struct pending {
    uint64_t reply;
    struct timespec due;
    struct pending *next;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t added;
    struct pending *head, *tail;
    unsigned delay_ms;
    int stopping;
} queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 50, 0};

static struct timespec after_ms(unsigned ms) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    struct pending *p = malloc(sizeof *p);
    if (p == NULL || c10k_request_defer(req, &p->reply) != 0) {
        free(p);
        return; /* not deferred: the library answers 500 */
    }
    p->due = after_ms(queue.delay_ms);
    p->next = NULL;
    pthread_mutex_lock(&queue.lock);
    if (queue.tail) {
        queue.tail->next = p;
    } else {
        queue.head = p;
    }
    queue.tail = p;
    pthread_cond_signal(&queue.added);
    pthread_mutex_unlock(&queue.lock);
}

/* The client left before its answer: c10k_reply_send will return
 * C10K_ECLOSED for it, which the completer ignores. */
static void on_abort(void *user_data, uint64_t reply) {
    (void)user_data;
    (void)reply;
}

static void *completer(void *arg) {
    (void)arg;
    static const c10k_header text_plain[] = {HEADER("Content-Type", "text/plain")};
    pthread_mutex_lock(&queue.lock);
    while (!queue.stopping) {
        struct pending *p = queue.head;
        if (p == NULL) {
            pthread_cond_wait(&queue.added, &queue.lock);
            continue;
        }
        if (pthread_cond_timedwait(&queue.added, &queue.lock, &p->due) == 0) {
            continue; /* woken early: check again */
        }
        queue.head = p->next;
        if (queue.head == NULL) {
            queue.tail = NULL;
        }
        pthread_mutex_unlock(&queue.lock);
        c10k_reply_send(p->reply, 200, text_plain, 1, (const uint8_t *)"Hello, World!", 13);
        free(p);
        pthread_mutex_lock(&queue.lock);
    }
    pthread_mutex_unlock(&queue.lock);
    return NULL;
}

int main(int argc, char **argv) {
    const char *addr = positional(argc, argv, 0, "127.0.0.1:8080");
    queue.delay_ms = option(argc, argv, "--delay-ms", 50);
    pthread_t thread;
    pthread_create(&thread, NULL, completer, NULL);

    c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request, .on_abort = on_abort};
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), 0, &callbacks, NULL);
    int status = server ? serve_until_signal(server) : 1;

    pthread_mutex_lock(&queue.lock);
    queue.stopping = 1;
    pthread_cond_signal(&queue.added);
    pthread_mutex_unlock(&queue.lock);
    pthread_join(thread, NULL);
    while (queue.head) {
        struct pending *p = queue.head;
        queue.head = p->next;
        free(p);
    }
    return status;
}
