/* The three ways to queue output keep their order on the wire: a copied
 * write, a file range sent with sendfile, and a borrowed buffer whose
 * release callback runs exactly once. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */

#include <stdlib.h>
#include <unistd.h>

#include "pair.h"

#define HEAD "head:"
#define FILE_LEN (200 * 1024)
#define FILE_OFFSET 1000 /* send the file from here, to prove offsets work */
#define TAIL_LEN (64 * 1024)
#define TOTAL (sizeof HEAD - 1 + (FILE_LEN - FILE_OFFSET) + TAIL_LEN)

static struct {
    c10k_loop *lp;
    int fd;
    unsigned char file[FILE_LEN];
    unsigned char *tail;
    unsigned char received[TOTAL];
    size_t n_received;
    int releases;
    int bogus_releases;
    int closes;
} t;

/* Frees a buffer lent to c10k_conn_write_owned; `ud` counts the calls. */
static void release(void *ud, const uint8_t *data, size_t len) {
    int *count = ud;
    CHECK(len == TAIL_LEN);
    (*count)++;
    free((void *)data);
}

static void server_open(void *ud, uint64_t conn) {
    unsigned char *bogus = malloc(TAIL_LEN);
    (void)ud;
    CHECK(c10k_conn_write(conn, (const uint8_t *)HEAD, sizeof HEAD - 1) >= 0);
    CHECK(c10k_conn_sendfile(conn, t.fd, FILE_OFFSET, FILE_LEN - FILE_OFFSET) >= 0);
    CHECK_RC(c10k_conn_sendfile(conn, -1, 0, 1), C10K_EBADF);
    CHECK(c10k_conn_write_owned(conn, t.tail, TAIL_LEN, release, &t.releases) >= 0);
    /* A failed call never calls release: the buffer stays ours. */
    CHECK_RC(c10k_conn_write_owned(conn ^ (1ull << 32), bogus, TAIL_LEN, release, &t.bogus_releases), C10K_ECLOSED);
    CHECK(t.bogus_releases == 0);
    free(bogus);
    CHECK(t.releases == 0); /* still queued: sent at the end of the turn */
    CHECK_RC(c10k_conn_close(conn), 0);
}

static void client_data(void *ud, uint64_t conn, const uint8_t *data, size_t len) {
    (void)ud;
    (void)conn;
    CHECK(t.n_received + len <= TOTAL);
    if (t.n_received + len <= TOTAL) {
        memcpy(t.received + t.n_received, data, len);
    }
    t.n_received += len;
}

static void on_close(void *ud, uint64_t conn, int reason) {
    (void)ud;
    (void)conn;
    CHECK_RC(reason, 0);
    if (++t.closes == 2) {
        c10k_loop_stop(t.lp);
    }
}

static size_t count_byte(const unsigned char *p, size_t len, unsigned char byte) {
    size_t i, n = 0;
    for (i = 0; i < len; i++) {
        n += p[i] == byte;
    }
    return n;
}

/* An unlinked temporary file holding a pattern; returns its descriptor. */
static int make_file(void) {
    char path[] = "/tmp/c10k-sendfile-XXXXXX";
    size_t i;
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    for (i = 0; i < FILE_LEN; i++) {
        t.file[i] = (unsigned char)(i % 253);
    }
    CHECK(write(fd, t.file, FILE_LEN) == FILE_LEN);
    return fd;
}

int main(void) {
    static const c10k_conn_callbacks server = {.size = sizeof(c10k_conn_callbacks), .on_open = server_open, .on_close = on_close};
    static const c10k_conn_callbacks client = {.size = sizeof(c10k_conn_callbacks), .on_data = client_data, .on_close = on_close};
    c10k_listener *listener = NULL;
    uint64_t client_conn = 0;
    const unsigned char *p = t.received;

    t.fd = make_file();
    t.tail = malloc(TAIL_LEN);
    CHECK(t.tail != NULL);
    memset(t.tail, 'T', TAIL_LEN);

    CHECK_RC(c10k_loop_new(&t.lp), 0);
    CHECK_RC(pair_open(t.lp, &server, NULL, &client, NULL, &listener, &client_conn), 0);
    CHECK_RUN(t.lp, 5000);
    close(t.fd); /* the library duplicated it */

    CHECK(t.n_received == TOTAL);
    CHECK(memcmp(p, HEAD, sizeof HEAD - 1) == 0);
    p += sizeof HEAD - 1;
    CHECK(memcmp(p, t.file + FILE_OFFSET, FILE_LEN - FILE_OFFSET) == 0);
    p += FILE_LEN - FILE_OFFSET;
    CHECK(count_byte(p, TAIL_LEN, 'T') == TAIL_LEN);
    CHECK(t.releases == 1);
    CHECK(t.bogus_releases == 0);
    CHECK_RC(c10k_listener_close(listener), 0);
    return check_finish(t.lp);
}
