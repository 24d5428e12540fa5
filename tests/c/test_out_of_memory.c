/* A write the library cannot copy answers C10K_ENOMEM, queues nothing, and
 * the connection, the request and the deferred reply keep working; it used
 * to abort the whole process (SIGABRT). Two sizes: SIZE_MAX, which no
 * allocation can hold, and a valid 1.2 GiB buffer in a child process whose
 * address space is then capped (RLIMIT_AS) so that no copy of it fits.
 * The child is this program run again with --rlimit (a fresh process, so
 * valgrind's or ASan's own memory layout is no concern of the cap). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Under AddressSanitizer, a failed malloc must return NULL (as libc's
 * does) rather than stop the program: that is the case under test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}

static struct {
    c10k_loop *lp;
    const uint8_t *big;
    size_t big_len;
    int releases;
    char received[4096];
    size_t received_len;
} t;

static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static void never_release(void *user_data, const uint8_t *data, size_t len) {
    (void)user_data;
    (void)data;
    (void)len;
    t.releases++;
}

static void on_request(void *user_data, c10k_request *req) {
    uint64_t reply = 0;
    (void)user_data;
    CHECK_RC(c10k_respond(req, 200, NULL, 0, t.big, t.big_len), C10K_ENOMEM);
    /* Nothing was sent: the request can still be deferred and answered. */
    CHECK_RC(c10k_request_defer(req, &reply), 0);
    CHECK_RC(c10k_reply_send(reply, 200, NULL, 0, t.big, t.big_len), C10K_ENOMEM);
    CHECK_RC(c10k_reply_start(reply, 200, NULL, 0, NULL), 0);
    CHECK_RC(c10k_reply_write(reply, t.big, t.big_len), C10K_ENOMEM);
    CHECK_RC(c10k_reply_write(reply, (const uint8_t *)"still here", 10), 0);
    CHECK_RC(c10k_reply_end(reply), 0);
}

static void client_open(void *user_data, uint64_t conn) {
    uint64_t pending = 1;
    (void)user_data;
    CHECK_RC(c10k_conn_write(conn, t.big, t.big_len), C10K_ENOMEM);
    if (t.big_len == SIZE_MAX) {
        /* (A lent buffer that can exist is queued without a copy.) */
        CHECK_RC(c10k_conn_write_owned(conn, t.big, t.big_len, never_release, NULL), C10K_ENOMEM);
    }
    CHECK_RC(c10k_conn_pending(conn, &pending), 0);
    CHECK(pending == 0);
    CHECK_RC(c10k_conn_write(conn, (const uint8_t *)request, sizeof request - 1), 0);
}

static void client_data(void *user_data, uint64_t conn, const uint8_t *data, size_t len) {
    (void)user_data;
    if (strstr(check_append(t.received, sizeof t.received, &t.received_len, data, len), "\r\n0\r\n\r\n") != NULL) {
        CHECK_RC(c10k_conn_close(conn), 0);
    }
}

static void client_close(void *user_data, uint64_t conn, int reason) {
    (void)user_data;
    (void)conn;
    (void)reason;
    c10k_loop_stop(t.lp);
}

static void settle(c10k_listener *listener) {
    size_t sources = 0;
    for (int turn = 0; turn < 1000; turn++) {
        CHECK_RC(c10k_loop_open_handles(t.lp, &sources, NULL), 0);
        if (sources == 1) {
            break;
        }
        CHECK(c10k_loop_run_once(t.lp, 10) >= 0);
    }
    CHECK(sources == 1);
    CHECK_RC(c10k_listener_close(listener), 0);
}

/* Connects to an HTTP listener and runs the exchange above; `cap` (if not
 * NULL) is called once everything is set up, before the first write. */
static void exchange(void (*cap)(void)) {
    c10k_listener *listener = NULL;
    char addr[C10K_ADDRSTRLEN];
    uint64_t client = 0;
    c10k_http_callbacks http = {.size = sizeof http, .on_request = on_request};
    c10k_conn_callbacks callbacks = {.size = sizeof callbacks, .on_open = client_open, .on_data = client_data, .on_close = client_close};
    CHECK_RC(c10k_http_listen(t.lp, "127.0.0.1:0", NULL, &http, NULL, &listener), 0);
    CHECK_RC(c10k_listener_addr(listener, addr, sizeof addr), 0);
    CHECK_RC(c10k_connect(t.lp, addr, &callbacks, NULL, &client), 0);
    if (cap != NULL) {
        cap();
    }
    CHECK_RUN(t.lp, 10000);
    CHECK(strncmp(t.received, "HTTP/1.1 200", 12) == 0);
    CHECK(strstr(t.received, "still here") != NULL);
    settle(listener);
}

/* The address space in use now, from /proc/self/status, in bytes. */
static unsigned long long address_space(void) {
    char line[256];
    unsigned long long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmSize: %llu kB", &kib) == 1) {
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kib * 1024;
}

/* Leaves 256 MiB of address space: plenty for the loop, not for a copy. */
static void cap_address_space(void) {
    struct rlimit limit;
    limit.rlim_cur = limit.rlim_max = address_space() + (256ull << 20);
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);
}

static int run_capped(void) {
    t.big_len = (size_t)1228 << 20; /* 1.2 GiB */
    void *big = mmap(NULL, t.big_len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(big != MAP_FAILED);
    t.big = big;
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    exchange(cap_address_space);
    return check_finish(t.lp);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--rlimit") == 0) {
        return run_capped();
    }
    static const uint8_t small[16];
    t.big = small;
    t.big_len = SIZE_MAX;
    CHECK_RC(c10k_loop_new(&t.lp), 0);
    exchange(NULL);
    CHECK(t.releases == 0);

    uint8_t out[8];
    size_t out_len = 0;
    CHECK_RC(c10k_percent_decode(small, SIZE_MAX, false, out, sizeof out, &out_len), C10K_ENOMEM);

    pid_t child = fork();
    if (child == 0) {
        execl(argv[0], argv[0], "--rlimit", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return check_finish(t.lp);
}
