/* Both ends of a TCP connection on one loop: a listener on 127.0.0.1:0 and
 * a client that c10k_connect points at it. */
#ifndef C10K_TEST_PAIR_H
#define C10K_TEST_PAIR_H

#include "check.h"

/* Listens with `server` callbacks and connects with `client` callbacks;
 * stores the listener and the client's handle. Returns 0 or the error. */
static inline int pair_open(c10k_loop *lp, const c10k_conn_callbacks *server, void *server_data,
                            const c10k_conn_callbacks *client, void *client_data,
                            c10k_listener **listener, uint64_t *client_conn) {
    char addr[C10K_ADDRSTRLEN];
    int rc = c10k_listen(lp, "127.0.0.1:0", NULL, server, server_data, listener);
    if (rc == 0) {
        rc = c10k_listener_addr(*listener, addr, sizeof addr);
    }
    if (rc == 0) {
        rc = c10k_connect(lp, addr, client, client_data, client_conn);
    }
    return rc;
}

#endif
