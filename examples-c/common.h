/* Helpers the HTTP examples share: argument parsing, byte-view
 * comparisons, signal handling and the server's life cycle. */
#ifndef C10K_EXAMPLES_COMMON_H
#define C10K_EXAMPLES_COMMON_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sigaction */
#endif
#include <c10k.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A header from two string literals. */
#define HEADER(name, value) \
    { (const uint8_t *)(name), sizeof(name) - 1, (const uint8_t *)(value), sizeof(value) - 1 }

/* Whether the view (ptr, len) equals the NUL-terminated text. */
static inline int view_is(const uint8_t *ptr, size_t len, const char *text) {
    return len == strlen(text) && memcmp(ptr, text, len) == 0;
}

/* The value of "--name N" in argv, or fallback. */
static inline unsigned option(int argc, char **argv, const char *name, unsigned fallback) {
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return (unsigned)strtoul(argv[i + 1], NULL, 10);
        }
    }
    return fallback;
}

/* The value of "--name TEXT" in argv, or fallback. */
static inline const char *text_option(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return fallback;
}

/* Options without a value. */
static const char *const flags[] = {"--list", "--proxy-protocol"};

static inline int is_flag(const char *arg) {
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(arg, flags[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether the flag `name` is in argv. */
static inline int flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Argument `skip` (0-based) among those that are neither options nor
 * option values, or fallback. */
static inline const char *positional(int argc, char **argv, int skip, const char *fallback) {
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i])) {
            continue;
        }
        if (strncmp(argv[i], "--", 2) == 0) {
            i++; /* skip the option's value */
        } else if (skip-- == 0) {
            return argv[i];
        }
    }
    return fallback;
}

static c10k_server *running_server;
/* When >= 0, readiness is one byte written here (to a supervising parent)
 * instead of the "listening on" line. */
static int ready_fd = -1;

/* Makes `handler` run on SIGINT and SIGTERM. */
static inline void on_stop_signals(void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* SIGINT/SIGTERM: c10k_server_request_stop is async-signal-safe. */
static void request_stop(int sig) {
    (void)sig;
    c10k_server_request_stop(running_server);
}

static inline int fail(const char *what, int code) {
    fprintf(stderr, "%s: %s (%s)\n", what, c10k_strerror(code), c10k_err_name(code));
    return 1;
}

/* Starts `server`, prints "listening on ADDR", serves until SIGINT or
 * SIGTERM, then stops gracefully and frees it. Returns the exit status. */
static inline int serve_until_signal(c10k_server *server) {
    running_server = server;
    on_stop_signals(request_stop);

    int rc = c10k_server_start(server);
    if (rc != 0) {
        c10k_server_free(server);
        return fail("start", rc);
    }
    if (ready_fd >= 0) {
        (void)!write(ready_fd, "r", 1);
    } else {
        char addr[C10K_ADDRSTRLEN];
        c10k_server_addr(server, 0, addr, sizeof addr);
        printf("listening on %s\n", addr);
        fflush(stdout);
    }
    rc = c10k_server_wait(server);
    c10k_server_free(server);
    return rc == 0 ? 0 : fail("wait", rc);
}

/* A server laid out as `config` serving `callbacks` with `http` settings:
 * on the listening socket handed over in LISTEN_FDS (systemd's socket
 * activation, or a previous process of this server), else on `addr`. */
static inline c10k_server *http_server_with(const char *addr, const c10k_server_config *config,
                                            const c10k_http_config *http,
                                            const c10k_http_callbacks *callbacks, void *user_data) {
    uint32_t inherited = 0;
    int rc = c10k_listen_fds_from_env(true, &inherited);
    if (rc != 0) {
        fail("LISTEN_FDS", rc);
        return NULL;
    }
    c10k_server *server = NULL;
    rc = c10k_server_new(config, &server);
    if (rc != 0) {
        fail("server", rc);
        return NULL;
    }
    if (inherited > 0) {
        rc = c10k_server_http_listen_fd(server, C10K_LISTEN_FDS_START, http, callbacks, user_data);
    } else {
        rc = c10k_server_http_listen(server, addr, http, callbacks, user_data);
    }
    if (rc != 0) {
        fail(addr, rc);
        c10k_server_free(server);
        return NULL;
    }
    return server;
}

/* A server with `loops` loops and `workers` workers serving `callbacks` on `addr`. */
static inline c10k_server *http_server(const char *addr, unsigned loops, unsigned workers,
                                       const c10k_http_callbacks *callbacks, void *user_data) {
    c10k_server_config config;
    c10k_server_config_init(&config, sizeof config);
    config.loops = loops;
    config.workers = workers;
    c10k_http_config http;
    c10k_http_config_init(&http, sizeof http);
    return http_server_with(addr, &config, &http, callbacks, user_data);
}

/* Answers a plain HTTP request to a WebSocket-only server: 426 Upgrade
 * Required, with `text` as the body. */
static inline void respond_websocket_only(c10k_request *req, const char *text) {
    static const c10k_header headers[] = {
        HEADER("Upgrade", "websocket"),
        HEADER("Connection", "Upgrade"),
        HEADER("Content-Type", "text/plain"),
    };
    c10k_respond(req, 426, headers, sizeof headers / sizeof headers[0], (const uint8_t *)text, strlen(text));
}

#endif
