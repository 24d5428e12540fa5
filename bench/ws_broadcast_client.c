/* The clients of bench/run's ws_broadcast scenario, in C so that reading
 * 100,000 deliveries a second measures the server, not the client.
 *
 *     ws_broadcast_client HOST:PORT CONNS SECONDS RATE SIZE
 *
 * Connects CONNS WebSocket clients from 127.0.0.2-21 and one publisher
 * from 127.0.0.1, prints {"ready": CONNS}, waits for a line on stdin, then
 * publishes RATE messages a second for SECONDS seconds, each carrying its
 * sequence number and CLOCK_MONOTONIC send time, while every client checks
 * it gets every message in order and records each delivery's latency.
 * Prints one JSON line of results. Built by bench/benchlib/ws.py.
 *
 * On loopback the clients share the server's CPUs, so they must cost as
 * little as they can or they slow the server they measure:
 * - a reader woken for every few deliveries pays for a wake-up and an
 *   epoll_wait each time; when a wait returns less than a full batch it
 *   naps NAP_US first, so that the next reads come in batches, for at
 *   most NAP_US of latency (here: 7 -> 3.6 us per delivery against a raw
 *   sender, and a quarter less CPU against chat with 10,000 clients);
 * - the publisher has its own thread, on schedule whatever the reader does;
 * - each delivery is timed when its read returns, not when its batch did.
 * Besides the latency it reports what one round costs the reader: when a
 * message's first and last deliveries came ("spread") and the reader's
 * CPU time per delivery. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_c.h"

struct client {
    int fd;
    uint64_t next; /* sequence number expected next */
    size_t have;   /* bytes of a frame read so far */
    uint8_t frame[256];
};

enum { BATCH = 512, NAP_US = 1000 };

static int64_t now_ns(void) {
    return clock_ns(CLOCK_MONOTONIC);
}

static struct sockaddr_in server;
static char host_port[64];

static int handshake(const char *source) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in src = {.sin_family = AF_INET};
    inet_pton(AF_INET, source, &src.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
    if (connect(fd, (struct sockaddr *)&server, sizeof server) < 0) die("connect");
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     host_port);
    if (write(fd, req, (size_t)n) != n) die("write");
    return fd;
}

/* Reads the 101 head byte by byte (nothing may follow it yet). */
static void read_head(int fd) {
    char head[1024];
    size_t len = 0;
    while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4) != 0) {
        if (len == sizeof head || read(fd, head + len, 1) != 1) die("handshake");
        len++;
    }
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "refused: %.40s\n", head);
        exit(1);
    }
}

static struct {
    int fd, rate;
    size_t size;
    uint64_t count;
    int64_t start;
} pub;

/* Sends message k at start + k/rate, stamped with its sequence number and
 * the time it was written. */
static void *publish(void *arg) {
    (void)arg;
    for (uint64_t k = 0; k < pub.count; k++) {
        int64_t due = pub.start + (int64_t)(k * 1000000000 / (uint64_t)pub.rate);
        struct timespec at = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
        }
        uint8_t frame[6 + 125], key[4] = {0x11, 0x22, 0x33, 0x44}, payload[125];
        uint64_t t = (uint64_t)now_ns();
        memset(payload, 'p', pub.size);
        for (int b = 0; b < 8; b++) {
            payload[b] = (uint8_t)(k >> (56 - 8 * b));
            payload[8 + b] = (uint8_t)(t >> (56 - 8 * b));
        }
        frame[0] = 0x82;
        frame[1] = 0x80 | (uint8_t)pub.size;
        memcpy(frame + 2, key, 4);
        for (size_t b = 0; b < pub.size; b++) frame[6 + b] = payload[b] ^ key[b % 4];
        if (write(pub.fd, frame, 6 + pub.size) != (ssize_t)(6 + pub.size)) die("publish");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST:PORT CONNS SECONDS RATE SIZE\n", argv[0]);
        return 2;
    }
    snprintf(host_port, sizeof host_port, "%s", argv[1]);
    char *colon = strrchr(argv[1], ':');
    if (!colon) return 2;
    *colon = '\0';
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(colon + 1));
    inet_pton(AF_INET, argv[1], &server.sin_addr);
    int conns = atoi(argv[2]), seconds = atoi(argv[3]), rate = atoi(argv[4]);
    size_t size = (size_t)atoi(argv[5]);
    if (size < 16 || size > 125) return 2;
    uint64_t expect = (uint64_t)rate * (uint64_t)seconds;

    struct client *c = calloc((size_t)conns, sizeof *c);
    int64_t *lat = malloc(sizeof *lat * (size_t)conns * expect);
    if (!c || !lat) die("malloc");
    int ep = epoll_create1(0);
    for (int start = 0; start < conns; start += 250) {
        int end = start + 250 < conns ? start + 250 : conns;
        for (int i = start; i < end; i++) {
            char source[32];
            snprintf(source, sizeof source, "127.0.0.%d", 2 + i % 20);
            c[i].fd = handshake(source);
        }
        for (int i = start; i < end; i++) {
            read_head(c[i].fd);
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) < 0) die("epoll_ctl");
        }
    }
    int publisher = handshake("127.0.0.1");
    read_head(publisher);
    struct epoll_event pev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(ep, EPOLL_CTL_ADD, publisher, &pev);
    printf("{\"ready\": %d}\n", conns);
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;

    uint64_t delivered = 0, disorder = 0;
    int finished = 0;
    int64_t start = now_ns() + 10000000, last = start, deadline = start + (int64_t)(seconds + 20) * 1000000000;
    int64_t *first = malloc(sizeof *first * expect), *final = calloc(expect, sizeof *final);
    if (!first || !final) die("malloc");
    for (uint64_t k = 0; k < expect; k++) first[k] = INT64_MAX;
    pub.fd = publisher, pub.rate = rate, pub.size = size, pub.count = expect, pub.start = start;
    pthread_t publisher_thread;
    if (pthread_create(&publisher_thread, NULL, publish, NULL) != 0) die("pthread_create");
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint8_t buf[65536];
    struct epoll_event events[BATCH];
    while (finished < conns && now_ns() < deadline) {
        int n = epoll_wait(ep, events, BATCH, 1000);
        if (n > 0 && n < BATCH) {
            struct timespec nap = {0, NAP_US * 1000L};
            nanosleep(&nap, NULL);
        }
        for (int e = 0; e < n; e++) {
            uint32_t i = events[e].data.u32;
            if (i == UINT32_MAX) { /* the publisher gets the broadcasts too */
                if (read(publisher, buf, sizeof buf) <= 0) die("publisher closed");
                continue;
            }
            ssize_t got = read(c[i].fd, buf, sizeof buf);
            int64_t now = now_ns();
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL);
                finished++;
                continue;
            }
            size_t frame_len = 2 + size;
            for (ssize_t off = 0; off < got;) {
                size_t take = frame_len - c[i].have;
                if (take > (size_t)(got - off)) take = (size_t)(got - off);
                memcpy(c[i].frame + c[i].have, buf + off, take);
                c[i].have += take;
                off += (ssize_t)take;
                if (c[i].have < frame_len) break;
                c[i].have = 0;
                uint64_t seq = 0, ts = 0;
                for (int b = 0; b < 8; b++) {
                    seq = seq << 8 | c[i].frame[2 + b];
                    ts = ts << 8 | c[i].frame[10 + b];
                }
                lat[delivered++] = now - (int64_t)ts;
                last = now;
                disorder += seq != c[i].next;
                c[i].next = seq + 1;
                if (seq < expect) {
                    if (now < first[seq]) first[seq] = now;
                    final[seq] = now;
                }
                if (c[i].next == expect) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c[i].fd, NULL);
                    finished++;
                }
            }
        }
    }
    int64_t reader_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    pthread_join(publisher_thread, NULL);
    /* The spread of a message: from its first delivery to its last. */
    int64_t *spread = malloc(sizeof *spread * expect);
    size_t spreads = 0;
    for (uint64_t k = 0; k < expect; k++)
        if (final[k]) spread[spreads++] = final[k] - first[k];
    qsort(spread, spreads, sizeof *spread, cmp64);
    uint64_t got_all = 0;
    for (int i = 0; i < conns; i++) got_all += c[i].next < expect ? c[i].next : expect;
    qsort(lat, delivered, sizeof *lat, cmp64);
    double elapsed = (double)(last - start) / 1e9;
#define PCT(p) (delivered ? (double)lat[(size_t)((double)(p) * (double)(delivered - 1))] / 1e6 : -1.0)
    printf("{\"deliveries\": %llu, \"deliveries_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
           "\"max_ms\": %.3f, \"lost\": %llu, \"out_of_order\": %llu, \"messages\": %llu, \"clients\": %d, "
           "\"spread_p50_ms\": %.3f, \"spread_max_ms\": %.3f, \"client_cpu_us\": %.3f}\n",
           (unsigned long long)delivered, elapsed > 0 ? (double)delivered / elapsed : 0.0, PCT(0.5), PCT(0.99),
           PCT(1.0), (unsigned long long)((uint64_t)conns * expect - got_all), (unsigned long long)disorder,
           (unsigned long long)expect, conns, spreads ? (double)spread[spreads / 2] / 1e6 : -1.0,
           spreads ? (double)spread[spreads - 1] / 1e6 : -1.0,
           delivered ? (double)reader_cpu / 1e3 / (double)delivered : -1.0);
    return 0;
}
