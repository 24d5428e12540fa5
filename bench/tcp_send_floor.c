/* What one loopback TCP send of a small frame costs the sender's CPU on
 * this machine, with no server involved: the floor under any server's
 * broadcast (one send per recipient), for bench/run's ws_broadcast.
 *
 *     tcp_send_floor PAIRS ROUNDS SIZE
 *
 * Connects PAIRS loopback TCP pairs (TCP_NODELAY, as the servers use),
 * then ROUNDS times sends SIZE bytes on each accepted side, timing the
 * round with the thread's CPU clock; nobody reads, so no reader's wake-up
 * is counted (the kernel's receive path runs in the sender's send(2) on
 * loopback, and is). Prints {"send_us": median CPU µs per send, ...}. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_c.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PAIRS ROUNDS SIZE\n", argv[0]);
        return 2;
    }
    int pairs = atoi(argv[1]), rounds = atoi(argv[2]);
    size_t size = (size_t)atoi(argv[3]);
    if (pairs < 1 || rounds < 1 || size < 1 || size > 4096) return 2;
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
        die("listen");
    int *clients = malloc(sizeof *clients * (size_t)pairs), *accepted = malloc(sizeof *accepted * (size_t)pairs);
    int64_t *per_send = malloc(sizeof *per_send * (size_t)rounds);
    char *frame = calloc(1, size);
    if (!clients || !accepted || !per_send || !frame) die("malloc");
    for (int i = 0; i < pairs; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (clients[i] < 0 || connect(clients[i], (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
        accepted[i] = accept(listener, NULL, NULL);
        if (accepted[i] < 0) die("accept");
        setsockopt(accepted[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    for (int r = 0; r < rounds; r++) {
        int64_t start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < pairs; i++)
            if (send(accepted[i], frame, size, MSG_NOSIGNAL) != (ssize_t)size) die("send");
        per_send[r] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - start) / pairs;
        usleep(20000); /* lets the peers' delayed ACKs come back between rounds */
    }
    qsort(per_send, (size_t)rounds, sizeof *per_send, cmp64);
    printf("{\"send_us\": %.3f, \"min_us\": %.3f, \"pairs\": %d, \"rounds\": %d, \"size\": %zu}\n",
           (double)per_send[rounds / 2] / 1e3, (double)per_send[0] / 1e3, pairs, rounds, size);
    return 0;
}
