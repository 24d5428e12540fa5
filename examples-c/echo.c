/* echo: a TCP echo server on c10k.
 *
 *     echo [ADDR]        ADDR defaults to 127.0.0.1:8080; port 0 picks one
 *
 * Prints "listening on ADDR" once ready and exits with status 0 on SIGINT or
 * SIGTERM. Shows the whole life of a c10k program: create a loop, listen,
 * react to connection callbacks, run, stop from a signal handler, close the
 * listener, free the loop. */
#define _POSIX_C_SOURCE 200809L /* sigaction */

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "c10k.h"

/* The signal handler needs the loop; c10k_loop_stop is async-signal-safe. */
static c10k_loop *loop;

static void on_signal(int signo) {
    (void)signo;
    c10k_loop_stop(loop);
}

/* Sends every byte back. c10k_conn_write copies the bytes, so `data` (only
 * borrowed for this call) may go away when we return. */
static void on_data(void *user_data, uint64_t conn, const uint8_t *data, size_t len) {
    int rc = c10k_conn_write(conn, data, len);
    (void)user_data;
    if (rc == C10K_QUEUE_FULL) {
        /* The peer reads slower than it writes: stop reading until our
         * queue drains, so memory stays bounded and TCP slows the peer. */
        c10k_conn_pause_read(conn);
    } else if (rc < 0) {
        c10k_conn_abort(conn);
    }
}

static void on_drain(void *user_data, uint64_t conn) {
    (void)user_data;
    c10k_conn_resume_read(conn);
}

static int fail(const char *what, int rc) {
    fprintf(stderr, "echo: %s: %s (%s)\n", what, c10k_strerror(rc), c10k_err_name(rc));
    return 1;
}

/* Stops the loop on SIGINT and SIGTERM. */
static void handle_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv) {
    /* Unset callbacks are NULL: when the peer closes (on_end is NULL) the
     * connection closes after its queued output is written. */
    static const c10k_conn_callbacks callbacks = {
        .size = sizeof(c10k_conn_callbacks),
        .on_data = on_data,
        .on_drain = on_drain,
    };
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
    char bound[C10K_ADDRSTRLEN];
    c10k_listener *listener = NULL;
    int rc;

    if (c10k_abi_version() != C10K_ABI_VERSION) {
        fprintf(stderr, "echo: built for c10k ABI %d, loaded %u\n", C10K_ABI_VERSION, c10k_abi_version());
        return 1;
    }
    if ((rc = c10k_loop_new(&loop)) != 0) {
        return fail("creating the loop", rc);
    }
    if ((rc = c10k_listen(loop, addr, NULL, &callbacks, NULL, &listener)) != 0) {
        c10k_loop_free(loop);
        return fail(addr, rc);
    }
    handle_signals(); /* before announcing: a signal may follow at once */
    c10k_listener_addr(listener, bound, sizeof bound);
    printf("listening on %s\n", bound);
    fflush(stdout); /* whoever started us may be waiting for this line */

    rc = c10k_loop_run(loop);

    /* The listener belongs to us; the loop closes open connections itself. */
    c10k_listener_close(listener);
    c10k_loop_free(loop);
    return rc == 0 ? 0 : fail("running the loop", rc);
}
