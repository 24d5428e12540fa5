/* A server stopped, waited for or freed from its own callback. Stopping
 * there asks for the stop and returns 0 (it used to answer C10K_EPANIC and
 * leave the server deaf); waiting answers C10K_EDEADLK (it used to
 * deadlock); freeing answers C10K_EBUSY and frees nothing (it used to be a
 * use-after-free). The request is still answered, and the stop then
 * happens: c10k_server_wait (after c10k_server_start) or c10k_server_run
 * returns. With handlers on the loop, on a worker pool, and on the thread
 * that called c10k_server_run. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static c10k_server *server;
static int requests;

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    requests++;
    CHECK_RC(c10k_server_free(server), C10K_EBUSY);
    CHECK_RC(c10k_server_wait(server), C10K_EDEADLK);
    CHECK_RC(c10k_server_stop(server, 5000), 0);
    CHECK_RC(c10k_respond(req, 200, NULL, 0, (const uint8_t *)"bye", 3), 0);
}

/* One request over a blocking socket; stores whether the answer was 200 "bye". */
struct client {
    int answered;
};

static void *client_run(void *arg) {
    struct client *c = arg;
    char addr[C10K_ADDRSTRLEN], reply[512];
    struct timespec pause = {0, 5 * 1000000L};
    /* Under c10k_server_run the address exists once the server listens. */
    for (int i = 0; i < 2000 && c10k_server_addr(server, 0, addr, sizeof addr) != 0; i++) {
        nanosleep(&pause, NULL);
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)atoi(strrchr(addr, ':') + 1));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0) {
        static const char request[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        size_t got = 0;
        ssize_t n = write(fd, request, sizeof request - 1);
        while (n > 0 && got < sizeof reply - 1 && (n = read(fd, reply + got, sizeof reply - 1 - got)) > 0) {
            got += (size_t)n;
        }
        reply[got] = 0;
        c->answered = strncmp(reply, "HTTP/1.1 200", 12) == 0 && strstr(reply, "\r\n\r\nbye") != NULL;
    }
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

static void make_server(uint32_t workers) {
    c10k_server_config config;
    c10k_server_config_init(&config, sizeof config);
    config.loops = 1;
    config.workers = workers;
    CHECK_RC(c10k_server_new(&config, &server), 0);
    c10k_http_callbacks callbacks = {.size = sizeof callbacks, .on_request = on_request};
    CHECK_RC(c10k_server_http_listen(server, "127.0.0.1:0", NULL, &callbacks, NULL), 0);
}

/* c10k_server_start, then this thread waits for the stop asked for inside. */
static void started(uint32_t workers) {
    struct client c = {0};
    requests = 0;
    make_server(workers);
    CHECK_RC(c10k_server_start(server), 0);
    client_run(&c);
    CHECK(c.answered);
    CHECK_RC(c10k_server_wait(server), 0);
    CHECK(requests == 1);
    CHECK_RC(c10k_server_free(server), 0);
}

/* c10k_server_run on this thread: the callback runs here, and run returns. */
static void run_here(void) {
    struct client c = {0};
    pthread_t thread;
    requests = 0;
    make_server(0);
    CHECK(pthread_create(&thread, NULL, client_run, &c) == 0);
    CHECK_RC(c10k_server_run(server), 0);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(c.answered);
    CHECK(requests == 1);
    CHECK_RC(c10k_server_free(server), 0);
}

int main(void) {
    started(0);
    started(2);
    run_here();
    return check_finish(NULL);
}
