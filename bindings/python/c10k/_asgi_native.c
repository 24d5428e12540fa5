/* The compiled per-request path of the ASGI server (`c10k.asgi`).
 *
 * `on_request`/`on_requests` are C functions here. Per request they build
 * the `http` scope, call `app(scope, receive, send)` and run the coroutine
 * at once, up to its first suspension, inside a light asyncio Task (entered
 * as the current task, so `asyncio.current_task()`, anyio and Starlette
 * see one) and in a copy of the context, the way Python 3.12's eager tasks
 * start. `receive` and `send` are C methods whose awaitables complete at
 * once: a request without a body, a response given whole (start, then one
 * body message) are answered with `c10k_respond` within the callback, so
 * the usual request costs no deferred reply, no future and no scheduled
 * Task step.
 *
 * Anything else goes to Python (`_asgi_http.py`): a request with a body,
 * a streamed response, an app that awaits something that is not ready.
 * Then the request is deferred (`c10k_request_defer`), its Python
 * `HttpCycle` takes over ("adopt"), and `receive`/`send` hand their
 * messages to it. An app that suspends is handed to a real asyncio Task:
 * the light Task is initialized (same object: what anyio attached to it
 * stays valid) over a coroutine that resumes the app where it stopped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "c10k.h"

#define C10K_FUNCTIONS(X)     \
    X(c10k_request_get_info)  \
    X(c10k_request_header_at) \
    X(c10k_request_peer_addr) \
    X(c10k_percent_decode)    \
    X(c10k_respond)           \
    X(c10k_request_defer)     \
    X(c10k_ws_is_upgrade)

#include "_native_common.h"

static int bound;

static const char TEXT_PLAIN[] = "text/plain; charset=utf-8";
static const char INTERNAL_ERROR[] = "Internal Server Error";

/* Interned keys and values. */
static PyObject *k_type, *k_asgi, *k_http_version, *k_method, *k_scheme, *k_path, *k_raw_path, *k_query_string,
    *k_root_path, *k_headers, *k_client, *k_server, *k_state, *k_status, *k_body, *k_more_body;
static PyObject *v_http, *v_10, *v_11, *v_start, *v_response_body, *v_empty_bytes, *v_no_args;
static PyObject *s_adopt, *s_websocket, *s_failed, *s_returned, *s_settle, *s_run, *s_background, *s_send,
    *s_receive, *s_task, *s_loop;
/* The methods most requests use, shared ("GET" is one object). */
static PyObject *methods[8];

static void respond_internal_error(c10k_request *req) {
    c10k_header ct = {(const uint8_t *)"content-type", 12, (const uint8_t *)TEXT_PLAIN, sizeof TEXT_PLAIN - 1};
    p_c10k_respond(req, 500, &ct, 1, (const uint8_t *)INTERNAL_ERROR, sizeof INTERNAL_ERROR - 1);
}

/* ---- Ready: an awaitable that is already complete ---- */

/* `await Ready(v)` gives v without suspending. The three the server uses
 * hold constants and are shared: nothing is allocated per await. */
typedef struct {
    PyObject_HEAD
    PyObject *value;
} ReadyObject;

/* Ends an iterator with `value` (StopIteration(value), kept whole even if
 * it is a tuple or an exception). */
static void set_stop_iteration(PyObject *value) {
    if (value == Py_None) return;
    PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, value);
    if (stop != NULL) {
        PyErr_SetObject(PyExc_StopIteration, stop);
        Py_DECREF(stop);
    }
}

static PyTypeObject ReadyType;
static ReadyObject *ready_none, *ready_empty_body, *ready_disconnect;

static PyObject *ready_await(PyObject *self) { return Py_NewRef(self); }

static PySendResult ready_send(ReadyObject *self, PyObject *arg, PyObject **result) {
    (void)arg;
    *result = Py_NewRef(self->value);
    return PYGEN_RETURN;
}

static PyObject *ready_next(ReadyObject *self) {
    set_stop_iteration(self->value);
    return NULL;
}

static void ready_dealloc(ReadyObject *self) {
    Py_XDECREF(self->value);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyAsyncMethods ready_async = {.am_await = ready_await, .am_send = (sendfunc)ready_send};

static PyTypeObject ReadyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._asgi_native.Ready",
    .tp_basicsize = sizeof(ReadyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An awaitable already complete (receive/send that did not need to wait).",
    .tp_dealloc = (destructor)ready_dealloc,
    .tp_as_async = &ready_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)ready_next,
};

static ReadyObject *ready_new(PyObject *value) {
    ReadyObject *r = PyObject_New(ReadyObject, &ReadyType);
    if (r != NULL) r->value = Py_NewRef(value);
    return r;
}

/* ---- Resume: the app's coroutine, continued by a Task ---- */

/* An awaitable that first gives the Task what the app's coroutine yielded
 * when it was run at once (a future, usually), then forwards send, throw
 * and close to the coroutine. */
typedef struct {
    PyObject_HEAD
    PyObject *coro;    /* an iterator: the coroutine, or what __await__ gave */
    PyObject *yielded; /* given by the first send; NULL after */
} ResumeObject;

static PyTypeObject ResumeType;

static PyObject *resume_await(PyObject *self) { return Py_NewRef(self); }

static PySendResult resume_send(ResumeObject *self, PyObject *arg, PyObject **result) {
    if (self->yielded != NULL) {
        *result = self->yielded;
        self->yielded = NULL;
        return PYGEN_NEXT;
    }
    return PyIter_Send(self->coro, arg, result);
}

static PyObject *resume_next(ResumeObject *self) {
    PyObject *result;
    PySendResult r = resume_send(self, Py_None, &result);
    if (r == PYGEN_NEXT) return result;
    if (r == PYGEN_RETURN) {
        set_stop_iteration(result);
        Py_DECREF(result);
    }
    return NULL;
}

static PyObject *resume_send_method(ResumeObject *self, PyObject *arg) {
    PyObject *result;
    PySendResult r = resume_send(self, arg, &result);
    if (r == PYGEN_NEXT) return result;
    if (r == PYGEN_RETURN) {
        set_stop_iteration(result);
        Py_DECREF(result);
    }
    return NULL;
}

/* throw() and close() go to the coroutine (a pending first value is dropped). */
static PyObject *resume_forward(ResumeObject *self, const char *name, PyObject *args) {
    Py_CLEAR(self->yielded);
    PyObject *method = PyObject_GetAttrString(self->coro, name);
    if (method == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError) || strcmp(name, "close") != 0) return NULL;
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_Call(method, args, NULL);
    Py_DECREF(method);
    return r;
}

static PyObject *resume_throw(ResumeObject *self, PyObject *args) { return resume_forward(self, "throw", args); }

static PyObject *resume_close(ResumeObject *self, PyObject *args) {
    (void)args;
    PyObject *none = PyTuple_New(0);
    PyObject *r = none ? resume_forward(self, "close", none) : NULL;
    Py_XDECREF(none);
    return r;
}

static int resume_traverse(ResumeObject *self, visitproc visit, void *arg) {
    Py_VISIT(self->coro);
    Py_VISIT(self->yielded);
    return 0;
}

static int resume_clear(ResumeObject *self) {
    Py_CLEAR(self->coro);
    Py_CLEAR(self->yielded);
    return 0;
}

static void resume_dealloc(ResumeObject *self) {
    PyObject_GC_UnTrack(self);
    resume_clear(self);
    PyObject_GC_Del(self);
}

static PyObject *resume_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"coro", "yielded", NULL};
    PyObject *coro, *yielded;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:Resume", kwlist, &coro, &yielded)) return NULL;
    ResumeObject *self = (ResumeObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->coro = Py_NewRef(coro);
    self->yielded = Py_NewRef(yielded);
    return (PyObject *)self;
}

static PyMethodDef resume_methods[] = {
    {"send", (PyCFunction)resume_send_method, METH_O, NULL},
    {"throw", (PyCFunction)resume_throw, METH_VARARGS, NULL},
    {"close", (PyCFunction)resume_close, METH_NOARGS, NULL},
    {NULL},
};

static PyAsyncMethods resume_async = {.am_await = resume_await, .am_send = (sendfunc)resume_send};

static PyTypeObject ResumeType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._asgi_native.Resume",
    .tp_basicsize = sizeof(ResumeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Resume(coro, yielded): awaits the rest of a coroutine stepped by hand until it yielded "
              "`yielded` (what a Task must wait on first).",
    .tp_traverse = (traverseproc)resume_traverse,
    .tp_clear = (inquiry)resume_clear,
    .tp_dealloc = (destructor)resume_dealloc,
    .tp_as_async = &resume_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)resume_next,
    .tp_methods = resume_methods,
    .tp_new = resume_new,
};

/* ---- the dispatch: user_data of the library's callbacks ---- */

typedef struct {
    PyObject_HEAD
    PyObject *app;
    PyObject *protocol;  /* c10k._asgi_http.HttpProtocol: what C leaves to Python */
    PyObject *asgi;      /* scope["asgi"], shared */
    PyObject *root_path; /* str, no trailing slash */
    PyObject *root_raw;  /* root_path as bytes */
    PyObject *state;     /* lifespan's state: each scope gets a copy */
    PyObject *loop;      /* the asyncio loop; None until bind_loop() */
    PyObject *task_type; /* asyncio.Task */
    PyObject *task_init; /* asyncio.Task.__init__ */
    PyObject *enter_task, *leave_task;
    PyObject *last_host; /* the last client host (str), reused while it repeats */
    PyObject *template;  /* a scope with every key, the constant values set: each scope is a copy */
    c10k_http_callbacks callbacks;
} DispatchObject;

/* ---- Cycle: one request, and the receive/send the app gets ---- */

typedef struct {
    PyObject_HEAD
    DispatchObject *d;
    c10k_request *req; /* during the library's callback only; NULL once deferred */
    PyObject *start;   /* the http.response.start message, until the response goes out */
    PyObject *py;      /* the Python HttpCycle once adopted, else NULL */
    bool has_body, head, request_done, complete;
} CycleObject;

static PyTypeObject CycleType;

/* Defers the request and hands it to a Python HttpCycle. 0, or -1 with an
 * error set. */
static int cycle_adopt(CycleObject *c) {
    if (c->py != NULL) return 0;
    if (c->req == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ASGI: the request is over (receive/send after the app returned)");
        return -1;
    }
    uint64_t reply;
    int32_t rc = p_c10k_request_defer(c->req, &reply);
    if (rc != 0) {
        PyErr_Format(PyExc_RuntimeError, "c10k_request_defer failed (%d)", (int)rc);
        return -1;
    }
    c->req = NULL;
    PyObject *handle = PyLong_FromUnsignedLongLong(reply);
    if (handle == NULL) return -1;
    c->py = PyObject_CallMethodObjArgs(c->d->protocol, s_adopt, handle, c->has_body ? Py_True : Py_False,
                                       c->head ? Py_True : Py_False, c->request_done ? Py_True : Py_False,
                                       c->start ? c->start : Py_None, NULL);
    Py_DECREF(handle);
    Py_CLEAR(c->start);
    return c->py == NULL ? -1 : 0;
}

static PyObject *cycle_receive(CycleObject *c, PyObject *unused) {
    (void)unused;
    if (c->py == NULL) {
        if (!c->request_done && !c->has_body) {
            c->request_done = true;
            return Py_NewRef(ready_empty_body);
        }
        if (c->complete) return Py_NewRef(ready_disconnect);
        if (cycle_adopt(c) != 0) return NULL;
    }
    return PyObject_CallMethodNoArgs(c->py, s_receive);
}

/* The declared Content-Length among `h`; -1 if none, -2 if not a number. */
static long long declared_length(const HeaderArray *h) {
    for (size_t i = 0; i < h->n; i++) {
        if (!is_named(&h->items[i], "content-length")) continue;
        const c10k_header *f = &h->items[i];
        if (f->value_len == 0 || f->value_len > 18) return -2;
        long long n = 0;
        for (size_t j = 0; j < f->value_len; j++) {
            uint8_t ch = f->value[j];
            if (ch < '0' || ch > '9') return -2;
            n = n * 10 + (ch - '0');
        }
        return n;
    }
    return -1;
}

/* The whole response (start + this last body message) answered with
 * c10k_respond. 1: done; 0: Python must do it; -1: error set. */
static int cycle_respond(CycleObject *c, PyObject *message) {
    if (c->req == NULL || !PyDict_CheckExact(c->start)) return 0;
    PyObject *more = PyDict_GetItemWithError(message, k_more_body);
    if (more != NULL) {
        int truth = PyObject_IsTrue(more);
        if (truth != 0) return truth < 0 ? -1 : 0; /* an error, or streamed: for Python */
    } else if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *body = PyDict_GetItemWithError(message, k_body);
    if (body == NULL) {
        if (PyErr_Occurred()) return -1;
        body = v_empty_bytes;
    }
    if (!PyBytes_CheckExact(body)) return 0;
    PyObject *status = PyDict_GetItemWithError(c->start, k_status);
    if (status == NULL || !PyLong_CheckExact(status)) return PyErr_Occurred() ? -1 : 0;
    long code = PyLong_AsLong(status);
    if (code < 100 || code > 999) return 0;
    PyObject *headers = PyDict_GetItemWithError(c->start, k_headers);
    if (headers == NULL && PyErr_Occurred()) return -1;
    HeaderArray h;
    if (!header_array(headers ? headers : Py_None, &h)) return 0;
    long long declared = declared_length(&h);
    Py_ssize_t len = PyBytes_GET_SIZE(body);
    if (declared != -1 && (declared != len || c->head)) return 0;
    int32_t rc = p_c10k_respond(c->req, (uint16_t)code, h.items, h.n, (const uint8_t *)PyBytes_AS_STRING(body),
                                (size_t)len);
    if (rc == C10K_EINVAL || rc == C10K_ENOMEM) return 0; /* Python's reply gives the precise error */
    c->complete = true;
    Py_CLEAR(c->start);
    return 1;
}

static PyObject *cycle_send(CycleObject *c, PyObject *message) {
    if (c->py == NULL && c->complete)
        return PyErr_Format(PyExc_RuntimeError, "ASGI: a message sent after the response completed");
    if (c->py == NULL && PyDict_CheckExact(message)) {
        PyObject *type = PyDict_GetItemWithError(message, k_type);
        if (type == NULL && PyErr_Occurred()) return NULL;
        if (type != NULL && PyUnicode_CheckExact(type)) {
            if (c->start == NULL && PyUnicode_Compare(type, v_start) == 0) {
                c->start = Py_NewRef(message);
                return Py_NewRef(ready_none);
            }
            if (c->start != NULL && PyUnicode_Compare(type, v_response_body) == 0) {
                int done = cycle_respond(c, message);
                if (done < 0) return NULL;
                if (done) return Py_NewRef(ready_none);
            }
        }
    }
    if (cycle_adopt(c) != 0) return NULL;
    return PyObject_CallMethodOneArg(c->py, s_send, message);
}

static int cycle_traverse(CycleObject *c, visitproc visit, void *arg) {
    Py_VISIT(c->d);
    Py_VISIT(c->start);
    Py_VISIT(c->py);
    return 0;
}

static int cycle_clear(CycleObject *c) {
    Py_CLEAR(c->d);
    Py_CLEAR(c->start);
    Py_CLEAR(c->py);
    return 0;
}

static void cycle_dealloc(CycleObject *c) {
    PyObject_GC_UnTrack(c);
    cycle_clear(c);
    PyObject_GC_Del(c);
}

static PyMethodDef receive_def = {"receive", (PyCFunction)cycle_receive, METH_NOARGS, "ASGI receive()."};
static PyMethodDef send_def = {"send", (PyCFunction)cycle_send, METH_O, "ASGI send(message)."};

static PyTypeObject CycleType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._asgi_native.Cycle",
    .tp_basicsize = sizeof(CycleObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "One ASGI http request: the state behind its receive and send.",
    .tp_traverse = (traverseproc)cycle_traverse,
    .tp_clear = (inquiry)cycle_clear,
    .tp_dealloc = (destructor)cycle_dealloc,
};

/* ---- the scope ---- */

static PyObject *method_of(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        PyObject *m = methods[i];
        if ((size_t)PyUnicode_GET_LENGTH(m) == n && memcmp(PyUnicode_1BYTE_DATA(m), p, n) == 0) return Py_NewRef(m);
    }
    return latin1(p, n);
}

static PyObject *lower_bytes(const uint8_t *p, size_t n) {
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (b == NULL) return NULL;
    char *out = PyBytes_AS_STRING(b);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
    }
    return b;
}

static bool is_zero_length(const uint8_t *v, size_t n) {
    while (n > 0 && (v[0] == ' ' || v[0] == '\t')) v++, n--;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    return n == 0 || (n == 1 && v[0] == '0');
}

/* scope["headers"]: (lowercase name, value) bytes pairs, in order; also
 * whether a body follows and whether the request asks to upgrade. */
static PyObject *scope_headers(c10k_request *req, size_t count, bool *has_body, bool *upgrade) {
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (list == NULL) return NULL;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *name, *value;
        size_t name_len, value_len;
        if (p_c10k_request_header_at(req, i, &name, &name_len, &value, &value_len) != 0) {
            name = value = (const uint8_t *)"";
            name_len = value_len = 0;
        }
        c10k_header h = {name, name_len, value, value_len};
        if (is_named(&h, "content-length")) {
            if (!is_zero_length(value, value_len)) *has_body = true;
        } else if (is_named(&h, "transfer-encoding")) {
            *has_body = true;
        } else if (is_named(&h, "upgrade")) {
            *upgrade = true;
        }
        PyObject *pair = PyTuple_New(2);
        if (pair == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, pair);
        PyObject *n = lower_bytes(name, name_len), *v = n ? bytes_of(value, value_len) : NULL;
        if (v == NULL) {
            Py_XDECREF(n);
            Py_DECREF(list);
            return NULL;
        }
        PyTuple_SET_ITEM(pair, 0, n);
        PyTuple_SET_ITEM(pair, 1, v);
    }
    return list;
}

/* scope["client"]: (host, port), None if the library cannot say. */
static PyObject *scope_client(DispatchObject *d, c10k_request *req) {
    char addr[C10K_ADDRSTRLEN];
    if (p_c10k_request_peer_addr(req, addr, sizeof addr) != 0) return Py_NewRef(Py_None);
    const char *host, *port_text;
    size_t host_len;
    if (!split_addr(addr, &host, &host_len, &port_text)) return Py_NewRef(Py_None);
    PyObject *h = d->last_host;
    if (h == NULL || (size_t)PyUnicode_GET_LENGTH(h) != host_len || memcmp(PyUnicode_1BYTE_DATA(h), host, host_len)) {
        h = PyUnicode_DecodeLatin1(host, (Py_ssize_t)host_len, NULL);
        if (h == NULL) return NULL;
        Py_XSETREF(d->last_host, h);
    }
    PyObject *port = PyLong_FromLong(atol(port_text));
    if (port == NULL) return NULL;
    PyObject *client = PyTuple_Pack(2, h, port);
    Py_DECREF(port);
    return client;
}

static PyObject *concat_bytes(PyObject *prefix, PyObject *rest) {
    if (PyBytes_GET_SIZE(prefix) == 0) return rest;
    PyObject *out = Py_NewRef(prefix);
    PyBytes_ConcatAndDel(&out, rest);
    return out;
}

/* The dict every scope is a copy of: all its keys, in order, with the
 * values every request shares (copying it and replacing the others costs
 * less than inserting each key). */
static PyObject *scope_template(DispatchObject *d) {
    PyObject *t = PyDict_New();
    if (t == NULL) return NULL;
    PyObject *items[][2] = {
        {k_type, v_http},         {k_asgi, d->asgi},  {k_http_version, v_11}, {k_method, Py_None},
        {k_scheme, v_http},       {k_path, Py_None},  {k_raw_path, Py_None},  {k_query_string, v_empty_bytes},
        {k_root_path, d->root_path}, {k_headers, Py_None}, {k_client, Py_None}, {k_server, Py_None},
        {k_state, Py_None},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (PyDict_SetItem(t, items[i][0], items[i][1]) != 0) {
            Py_DECREF(t);
            return NULL;
        }
    }
    return t;
}

static PyObject *build_scope(DispatchObject *d, c10k_request *req, const c10k_request_info *in, bool *has_body,
                             bool *upgrade) {
    PyObject *scope = PyDict_Copy(d->template);
    if (scope == NULL) return NULL;
    PyObject *raw = bytes_of(in->path, in->path_len);
    PyObject *decoded = raw == NULL ? NULL
                        : memchr(in->path, '%', in->path_len) ? decoded_path(in->path, in->path_len)
                                                              : Py_NewRef(raw);
    PyObject *path = decoded ? PyUnicode_DecodeUTF8(PyBytes_AS_STRING(decoded), PyBytes_GET_SIZE(decoded), "replace")
                             : NULL;
    Py_XDECREF(decoded);
    if (path != NULL && PyUnicode_GET_LENGTH(d->root_path) > 0) Py_SETREF(path, PyUnicode_Concat(d->root_path, path));
    if (raw != NULL) raw = concat_bytes(d->root_raw, raw);
    if (path == NULL || raw == NULL || (!in->version_minor && PyDict_SetItem(scope, k_http_version, v_10)) ||
        set_steal(scope, k_method, method_of(in->method, in->method_len)) || PyDict_SetItem(scope, k_path, path) ||
        PyDict_SetItem(scope, k_raw_path, raw) ||
        (in->query_len && set_steal(scope, k_query_string, bytes_of(in->query, in->query_len))) ||
        set_steal(scope, k_headers, scope_headers(req, in->header_count, has_body, upgrade)) ||
        set_steal(scope, k_client, scope_client(d, req)) || set_steal(scope, k_state, PyDict_Copy(d->state))) {
        Py_XDECREF(path);
        Py_XDECREF(raw);
        Py_DECREF(scope);
        return NULL;
    }
    Py_DECREF(path);
    Py_DECREF(raw);
    return scope;
}

/* ---- running the app ---- */

/* The raised exception, normalized, with its traceback; NULL if none. */
static PyObject *fetch_exception(void) {
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (exc != NULL && tb != NULL) PyException_SetTraceback(exc, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return exc;
}

static void call_method(PyObject *obj, PyObject *name, PyObject *arg) {
    PyObject *r = PyObject_CallMethodOneArg(obj, name, arg);
    if (r == NULL) PyErr_WriteUnraisable(obj);
    Py_XDECREF(r);
}

/* Logs the raised exception through protocol.failed(exc) and clears it. */
static void report_failure(DispatchObject *d) {
    PyObject *exc = fetch_exception();
    call_method(d->protocol, s_failed, exc ? exc : Py_None);
    Py_XDECREF(exc);
}

/* The app's coroutine ended within the callback; `exc` is what it raised
 * (NULL: it returned). What Python's HttpCycle.run does for a task. */
static void cycle_ended(CycleObject *c, PyObject *exc) {
    DispatchObject *d = c->d;
    if (c->py != NULL) {
        call_method(c->py, s_settle, exc ? exc : Py_None);
        return;
    }
    if (exc != NULL)
        call_method(d->protocol, s_failed, exc);
    else if (!c->complete)
        call_method(d->protocol, s_returned, c->start ? Py_True : Py_False);
    if (!c->complete && c->req != NULL) respond_internal_error(c->req);
    c->complete = true;
}

/* The app's coroutine suspended on `yielded`: a real Task (the light one,
 * initialized now) continues it, with the request adopted by Python
 * unless its response is complete. */
static void cycle_suspended(CycleObject *c, PyObject *iter, PyObject *yielded, PyObject *task, PyObject *ctx) {
    DispatchObject *d = c->d;
    ResumeObject *rest = PyObject_GC_New(ResumeObject, &ResumeType);
    if (rest == NULL) {
        Py_DECREF(yielded);
        report_failure(d);
        return;
    }
    rest->coro = Py_NewRef(iter);
    rest->yielded = yielded;
    PyObject_GC_Track(rest);
    PyObject *runner = NULL;
    if (!c->complete && cycle_adopt(c) != 0) {
        /* The client left (the request cannot be deferred): the app is dropped. */
        PyErr_Clear();
        c->complete = true;
    } else {
        runner = PyObject_CallMethodOneArg(c->py ? c->py : d->protocol, c->py ? s_run : s_background,
                                           (PyObject *)rest);
    }
    Py_DECREF(rest);
    if (runner == NULL) {
        if (PyErr_Occurred()) report_failure(d);
        return;
    }
    static PyObject *kwnames;
    if (kwnames == NULL && (kwnames = PyTuple_Pack(1, s_loop)) == NULL) {
        Py_DECREF(runner);
        report_failure(d);
        return;
    }
    /* The Task runs in a copy of the context the app started in. */
    PyObject *args[3] = {task, runner, d->loop};
    PyObject *r = PyContext_Enter(ctx) == 0 ? PyObject_Vectorcall(d->task_init, args, 2, kwnames) : NULL;
    if (PyContext_Exit(ctx) != 0) PyErr_WriteUnraisable(ctx);
    Py_DECREF(runner);
    if (r == NULL || (c->py != NULL && PyObject_SetAttr(c->py, s_task, task) != 0)) report_failure(d);
    Py_XDECREF(r);
}

/* The iterator `await coro` runs: the coroutine itself, or its __await__(). */
static PyObject *awaited(PyObject *coro) {
    if (PyCoro_CheckExact(coro)) return Py_NewRef(coro);
    unaryfunc get = Py_TYPE(coro)->tp_as_async ? Py_TYPE(coro)->tp_as_async->am_await : NULL;
    if (get == NULL)
        return PyErr_Format(PyExc_TypeError, "ASGI application returned %.100s, which cannot be awaited",
                            Py_TYPE(coro)->tp_name);
    return get(coro);
}

/* Calls app(scope, receive, send) and runs the coroutine up to its first
 * suspension, in a copy of the context and as the current task. */
static void run_app(DispatchObject *d, CycleObject *c, PyObject *scope) {
    PyObject *receive = PyCFunction_New(&receive_def, (PyObject *)c);
    PyObject *send = receive ? PyCFunction_New(&send_def, (PyObject *)c) : NULL;
    PyObject *ctx = send ? PyContext_CopyCurrent() : NULL;
    PyTypeObject *task_type = (PyTypeObject *)d->task_type;
    PyObject *task = ctx ? task_type->tp_new(task_type, v_no_args, NULL) : NULL;
    if (task == NULL || PyContext_Enter(ctx) != 0) {
        Py_XDECREF(receive);
        Py_XDECREF(send);
        Py_XDECREF(ctx);
        Py_XDECREF(task);
        report_failure(d);
        cycle_ended(c, NULL);
        return;
    }
    PyObject *pair[2] = {d->loop, task};
    PyObject *entered = PyObject_Vectorcall(d->enter_task, pair, 2, NULL);
    if (entered == NULL) PyErr_Clear(); /* another task runs: the app runs without its own */
    PyObject *args[3] = {scope, receive, send};
    PyObject *coro = PyObject_Vectorcall(d->app, args, 3, NULL);
    PyObject *iter = coro ? awaited(coro) : NULL;
    Py_XDECREF(coro);
    PyObject *result = NULL;
    PySendResult status = iter ? PyIter_Send(iter, Py_None, &result) : PYGEN_ERROR;
    PyObject *exc = status == PYGEN_ERROR ? fetch_exception() : NULL;
    if (entered != NULL) {
        PyObject *left = PyObject_Vectorcall(d->leave_task, pair, 2, NULL);
        if (left == NULL) PyErr_WriteUnraisable(d->leave_task);
        Py_XDECREF(left);
        Py_DECREF(entered);
    }
    if (PyContext_Exit(ctx) != 0) PyErr_WriteUnraisable(ctx);
    if (status == PYGEN_NEXT) {
        cycle_suspended(c, iter, result, task, ctx);
    } else {
        Py_XDECREF(result);
        cycle_ended(c, exc);
    }
    Py_XDECREF(exc);
    Py_XDECREF(iter);
    Py_DECREF(task);
    Py_DECREF(ctx);
    Py_DECREF(receive);
    Py_DECREF(send);
}

static bool is_head(const c10k_request_info *in) { return in->method_len == 4 && !memcmp(in->method, "HEAD", 4); }

/* One request, GIL held. */
static void handle(DispatchObject *d, c10k_request *req) {
    c10k_request_info in;
    memset(&in, 0, sizeof in);
    in.size = sizeof in;
    if (p_c10k_request_get_info(req, &in) != 0) {
        respond_internal_error(req);
        return;
    }
    bool has_body = false, upgrade = false;
    PyObject *scope = build_scope(d, req, &in, &has_body, &upgrade);
    if (scope == NULL) {
        report_failure(d);
        respond_internal_error(req);
        return;
    }
    if (upgrade && p_c10k_ws_is_upgrade(req)) {
        PyObject *addr = PyLong_FromVoidPtr(req);
        PyObject *r = addr ? PyObject_CallMethodObjArgs(d->protocol, s_websocket, addr, scope, NULL) : NULL;
        Py_XDECREF(addr);
        if (r == NULL) {
            report_failure(d);
            respond_internal_error(req);
        }
        Py_XDECREF(r);
        Py_DECREF(scope);
        return;
    }
    CycleObject *c = PyObject_GC_New(CycleObject, &CycleType);
    if (c == NULL) {
        report_failure(d);
        respond_internal_error(req);
        Py_DECREF(scope);
        return;
    }
    c->d = (DispatchObject *)Py_NewRef(d);
    c->req = req;
    c->start = c->py = NULL;
    c->has_body = has_body;
    c->head = is_head(&in);
    c->request_done = c->complete = false;
    PyObject_GC_Track(c);
    /* A body streams in later: Python's cycle receives it from the start. */
    if (has_body && cycle_adopt(c) != 0) {
        report_failure(d);
        respond_internal_error(req);
    } else {
        run_app(d, c, scope);
    }
    c->req = NULL;
    Py_DECREF(c);
    Py_DECREF(scope);
}

/* on_request: one request (an upgrade, or a listener without batches). */
static void dispatch_on_request(void *user_data, c10k_request *req) {
    PyGILState_STATE gil = PyGILState_Ensure();
    handle(user_data, req);
    PyGILState_Release(gil);
}

/* on_requests: the requests of one loop turn, under one taking of the GIL. */
static void dispatch_on_requests(void *user_data, c10k_request *const *reqs, size_t n) {
    PyGILState_STATE gil = PyGILState_Ensure();
    for (size_t i = 0; i < n; i++) handle(user_data, reqs[i]);
    PyGILState_Release(gil);
}

/* ---- AsgiDispatch ---- */

static int dispatch_traverse(DispatchObject *d, visitproc visit, void *arg) {
    Py_VISIT(d->app);
    Py_VISIT(d->protocol);
    Py_VISIT(d->asgi);
    Py_VISIT(d->root_path);
    Py_VISIT(d->root_raw);
    Py_VISIT(d->state);
    Py_VISIT(d->loop);
    Py_VISIT(d->task_type);
    Py_VISIT(d->task_init);
    Py_VISIT(d->enter_task);
    Py_VISIT(d->leave_task);
    Py_VISIT(d->last_host);
    Py_VISIT(d->template);
    return 0;
}

static int dispatch_clear(DispatchObject *d) {
    Py_CLEAR(d->app);
    Py_CLEAR(d->protocol);
    Py_CLEAR(d->asgi);
    Py_CLEAR(d->root_path);
    Py_CLEAR(d->root_raw);
    Py_CLEAR(d->state);
    Py_CLEAR(d->loop);
    Py_CLEAR(d->task_type);
    Py_CLEAR(d->task_init);
    Py_CLEAR(d->enter_task);
    Py_CLEAR(d->leave_task);
    Py_CLEAR(d->last_host);
    Py_CLEAR(d->template);
    return 0;
}

static void dispatch_dealloc(DispatchObject *d) {
    PyObject_GC_UnTrack(d);
    dispatch_clear(d);
    Py_TYPE(d)->tp_free((PyObject *)d);
}

static PyObject *dispatch_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"app", "protocol", "asgi", "root_path", "state", "task_type", "enter_task",
                             "leave_task", NULL};
    PyObject *app, *protocol, *asgi, *root_path, *state, *task_type, *enter_task, *leave_task;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!UO!O!OO", kwlist, &app, &protocol, &PyDict_Type, &asgi,
                                     &root_path, &PyDict_Type, &state, &PyType_Type, &task_type, &enter_task,
                                     &leave_task))
        return NULL;
    if (!bound) return PyErr_Format(PyExc_RuntimeError, "c10k._asgi_native: bind(path) was not called");
    PyObject *root_raw = PyUnicode_AsUTF8String(root_path);
    PyObject *task_init = root_raw ? PyObject_GetAttrString(task_type, "__init__") : NULL;
    DispatchObject *d = task_init ? (DispatchObject *)type->tp_alloc(type, 0) : NULL;
    if (d == NULL) {
        Py_XDECREF(root_raw);
        Py_XDECREF(task_init);
        return NULL;
    }
    d->app = Py_NewRef(app);
    d->protocol = Py_NewRef(protocol);
    d->asgi = Py_NewRef(asgi);
    d->root_path = Py_NewRef(root_path);
    d->root_raw = root_raw;
    d->state = Py_NewRef(state);
    d->loop = Py_NewRef(Py_None);
    d->task_type = Py_NewRef(task_type);
    d->task_init = task_init;
    d->enter_task = Py_NewRef(enter_task);
    d->leave_task = Py_NewRef(leave_task);
    d->callbacks.size = sizeof d->callbacks;
    d->callbacks.on_request = dispatch_on_request;
    d->callbacks.on_requests = dispatch_on_requests;
    d->template = scope_template(d);
    if (d->template == NULL) Py_CLEAR(d);
    return (PyObject *)d;
}

static PyObject *dispatch_pointers(DispatchObject *d, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("(NN)", PyLong_FromVoidPtr(&d->callbacks), PyLong_FromVoidPtr(d));
}

static PyObject *dispatch_serve(DispatchObject *d, PyObject *args) {
    PyObject *loop, *server;
    if (!PyArg_ParseTuple(args, "OO:serve", &loop, &server)) return NULL;
    PyObject *template = PyDict_Copy(d->template);
    if (template == NULL || PyDict_SetItem(template, k_server, server) != 0) {
        Py_XDECREF(template);
        return NULL;
    }
    Py_XSETREF(d->template, template);
    Py_XSETREF(d->loop, Py_NewRef(loop));
    Py_RETURN_NONE;
}

static PyMethodDef dispatch_methods[] = {
    {"pointers", (PyCFunction)dispatch_pointers, METH_NOARGS,
     "(callbacks address, user_data address) for c10k_http_listen."},
    {"serve", (PyCFunction)dispatch_serve, METH_VARARGS,
     "serve(loop, server): the asyncio loop the apps run on, and scope['server']."},
    {NULL},
};

static PyTypeObject DispatchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._asgi_native.AsgiDispatch",
    .tp_basicsize = sizeof(DispatchObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "AsgiDispatch(app, protocol, asgi, root_path, state, task_type, enter_task, leave_task): "
              "on_request in C for an ASGI app.",
    .tp_traverse = (traverseproc)dispatch_traverse,
    .tp_clear = (inquiry)dispatch_clear,
    .tp_dealloc = (destructor)dispatch_dealloc,
    .tp_new = dispatch_new,
    .tp_methods = dispatch_methods,
};

/* ---- module ---- */

static PyObject *native_bind(PyObject *module, PyObject *args) {
    (void)module;
    const char *path;
    PyObject *empty_body, *disconnect;
    if (!PyArg_ParseTuple(args, "sO!O!:bind", &path, &PyDict_Type, &empty_body, &PyDict_Type, &disconnect))
        return NULL;
    if (resolve_functions("c10k._asgi_native", path) != 0) return NULL;
    if (ready_empty_body == NULL) {
        ready_empty_body = ready_new(empty_body);
        ready_disconnect = ready_new(disconnect);
        if (ready_empty_body == NULL || ready_disconnect == NULL) return NULL;
    }
    bound = 1;
    Py_RETURN_NONE;
}

static PyMethodDef native_methods[] = {
    {"bind", native_bind, METH_VARARGS,
     "bind(library_path, empty_body, disconnect): resolves the library's functions in the library cffi opened; "
     "the two messages receive() gives without waiting."},
    {NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, .m_name = "c10k._asgi_native",
    .m_doc = "The compiled per-request path of c10k's ASGI server.", .m_size = -1, .m_methods = native_methods,
};

PyMODINIT_FUNC PyInit__asgi_native(void) {
    static const char *method_names[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (intern(&methods[i], method_names[i])) return NULL;
    if (intern(&k_type, "type") || intern(&k_asgi, "asgi") || intern(&k_http_version, "http_version") ||
        intern(&k_method, "method") || intern(&k_scheme, "scheme") || intern(&k_path, "path") ||
        intern(&k_raw_path, "raw_path") || intern(&k_query_string, "query_string") ||
        intern(&k_root_path, "root_path") || intern(&k_headers, "headers") || intern(&k_client, "client") ||
        intern(&k_server, "server") || intern(&k_state, "state") || intern(&k_status, "status") ||
        intern(&k_body, "body") || intern(&k_more_body, "more_body") || intern(&v_http, "http") ||
        intern(&v_10, "1.0") || intern(&v_11, "1.1") || intern(&v_start, "http.response.start") ||
        intern(&v_response_body, "http.response.body") || intern(&s_adopt, "adopt") ||
        intern(&s_websocket, "websocket") || intern(&s_failed, "failed") || intern(&s_returned, "returned") ||
        intern(&s_settle, "settle") || intern(&s_run, "run") || intern(&s_background, "background") ||
        intern(&s_send, "send") || intern(&s_receive, "receive") || intern(&s_task, "task") ||
        intern(&s_loop, "loop"))
        return NULL;
    v_empty_bytes = PyBytes_FromStringAndSize("", 0);
    v_no_args = PyTuple_New(0);
    if (v_empty_bytes == NULL || v_no_args == NULL) return NULL;
    if (PyType_Ready(&ReadyType) < 0 || PyType_Ready(&ResumeType) < 0 || PyType_Ready(&CycleType) < 0 ||
        PyType_Ready(&DispatchType) < 0)
        return NULL;
    ready_none = ready_new(Py_None);
    if (ready_none == NULL) return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    if (PyModule_AddType(m, &DispatchType) < 0 || PyModule_AddType(m, &ResumeType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
