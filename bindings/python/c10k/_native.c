/* The compiled per-request path of the Python binding.
 *
 * The library calls `on_request` (a C function here) for each request; this
 * file builds the request object or the WSGI environ, calls the Python
 * application and hands its answer back with `c10k_respond`, all without
 * interpreted glue. Only what is rare (files, streamed bodies, odd result
 * types, errors) goes to the Python functions given to `HttpDispatch` and
 * `WsgiDispatch`.
 *
 * `include/c10k.h` is the only interface to the library. Its functions are
 * looked up with dlsym() in the very library cffi opened (`bind(path)`), so
 * that one copy of the library serves both (`C10K_LIB` included).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdio.h>
#include <string.h>

#include "c10k.h"

#if PY_VERSION_HEX < 0x030D0000
/* Its name from 3.13 on: 1 and a new reference when found, 0 when not
 * (no error set), -1 on error. */
#define PyObject_GetOptionalAttr _PyObject_LookupAttr
#endif

/* ---- the library's functions, resolved by bind() ---- */

#define C10K_FUNCTIONS(X)     \
    X(c10k_request_get_info)  \
    X(c10k_request_header_at) \
    X(c10k_request_peer_addr) \
    X(c10k_percent_decode)    \
    X(c10k_respond)           \
    X(c10k_request_set_reason) \
    X(c10k_strerror)

#include "_native_common.h"

static int bound;

static const char TEXT_PLAIN[] = "text/plain; charset=utf-8";
static const char INTERNAL_ERROR[] = "Internal Server Error\n";

static void add_text_content_type(HeaderArray *h) {
    for (size_t i = 0; i < h->n; i++)
        if (is_named(&h->items[i], "content-type")) return;
    c10k_header *ct = &h->items[h->n++];
    ct->name = (const uint8_t *)"Content-Type";
    ct->name_len = 12;
    ct->value = (const uint8_t *)TEXT_PLAIN;
    ct->value_len = sizeof TEXT_PLAIN - 1;
}

static void respond_internal_error(c10k_request *req) {
    c10k_header ct = {(const uint8_t *)"Content-Type", 12, (const uint8_t *)TEXT_PLAIN, sizeof TEXT_PLAIN - 1};
    /* Fails harmlessly if the request was answered or its client left. */
    p_c10k_respond(req, 500, &ct, 1, (const uint8_t *)INTERNAL_ERROR, sizeof INTERNAL_ERROR - 1);
}

/* ---- str objects for texts that come back request after request ----
 *
 * Header names (as their CGI keys), Host values, methods and client
 * addresses repeat from one request to the next: a hit gives the str made
 * last time (its hash already known to the environ dict) instead of a new
 * one. Direct-mapped and small; only short texts are kept. */

#define TEXT_CACHE_SLOTS 128
#define TEXT_CACHE_LONGEST 48

enum { TEXT_PLAIN_LATIN1, TEXT_CGI_NAME };

typedef struct {
    PyObject *str; /* NULL: empty slot */
    int kind;
    size_t len;
    uint8_t bytes[TEXT_CACHE_LONGEST];
} TextSlot;

static TextSlot text_cache[TEXT_CACHE_SLOTS];

static TextSlot *text_slot(int kind, const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u ^ (uint32_t)kind;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return &text_cache[h % TEXT_CACHE_SLOTS];
}

/* The str `make(p, n)` gives for bytes of this `kind`, from the cache when
 * it has them; a new reference, or NULL (an error set, or for a CGI name
 * none to give). */
static PyObject *cached_text(int kind, const uint8_t *p, size_t n, PyObject *(*make)(const uint8_t *, size_t)) {
    if (n > TEXT_CACHE_LONGEST) return make(p, n);
    TextSlot *slot = text_slot(kind, p, n);
    if (slot->str != NULL && slot->kind == kind && slot->len == n && memcmp(slot->bytes, p, n) == 0)
        return Py_NewRef(slot->str);
    PyObject *str = make(p, n);
    if (str != NULL) {
        Py_XSETREF(slot->str, Py_NewRef(str));
        slot->kind = kind;
        slot->len = n;
        memcpy(slot->bytes, p, n);
    }
    return str;
}

static PyObject *make_latin1(const uint8_t *p, size_t n) { return latin1(p, n); }

/* ---- Request: the handler's view of one request ---- */

enum {
    F_METHOD, F_TARGET, F_RAW_PATH, F_PATH, F_QUERY, F_VERSION, F_HEADERS, F_BODY, F_PEER, F_SCHEME, F_HOST,
    F_COUNT
};

typedef struct {
    PyObject_HEAD
    c10k_request *req; /* NULL once the handler returned */
    c10k_request_info info;
    PyObject *cache[F_COUNT];
} RequestObject;

static PyObject *HeadersClass; /* c10k._request.Headers */
static PyObject *str_http, *str_https;
static PyObject *target_forms[4]; /* "origin", "absolute", ... by C10K_TARGET_* value */

static PyTypeObject RequestType;

static RequestObject *request_new(c10k_request *req) {
    RequestObject *r = PyObject_GC_New(RequestObject, &RequestType);
    if (r == NULL) return NULL;
    r->req = req;
    memset(r->cache, 0, sizeof r->cache);
    memset(&r->info, 0, sizeof r->info);
    r->info.size = sizeof r->info;
    if (p_c10k_request_get_info(req, &r->info) != 0) r->info.size = 0;
    PyObject_GC_Track(r);
    return r;
}

static void request_detach(RequestObject *r) { r->req = NULL; }

static int request_traverse(RequestObject *r, visitproc visit, void *arg) {
    for (int i = 0; i < F_COUNT; i++) Py_VISIT(r->cache[i]);
    return 0;
}

static int request_clear(RequestObject *r) {
    for (int i = 0; i < F_COUNT; i++) Py_CLEAR(r->cache[i]);
    return 0;
}

static void request_dealloc(RequestObject *r) {
    PyObject_GC_UnTrack(r);
    request_clear(r);
    PyObject_GC_Del(r);
}

static PyObject *parse_peer(const char *text) {
    const char *host, *port;
    size_t host_len;
    if (!split_addr(text, &host, &host_len, &port)) return Py_BuildValue("(si)", "", 0);
    return Py_BuildValue("(s#i)", host, (Py_ssize_t)host_len, atoi(port));
}

static PyObject *request_peer(c10k_request *req) {
    char addr[C10K_ADDRSTRLEN];
    if (p_c10k_request_peer_addr(req, addr, sizeof addr) != 0) return Py_BuildValue("(si)", "", 0);
    return parse_peer(addr);
}

static PyObject *read_headers(c10k_request *req, size_t count) {
    PyObject *items = PyList_New(0);
    if (items == NULL) return NULL;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *name, *value;
        size_t name_len, value_len;
        if (p_c10k_request_header_at(req, i, &name, &name_len, &value, &value_len) != 0) break;
        PyObject *pair = Py_BuildValue("(NN)", latin1(name, name_len), latin1(value, value_len));
        if (pair == NULL || PyList_Append(items, pair) != 0) {
            Py_XDECREF(pair);
            Py_DECREF(items);
            return NULL;
        }
        Py_DECREF(pair);
    }
    return items;
}

static PyObject *request_field(RequestObject *r, void *closure) {
    int field = (int)(intptr_t)closure;
    PyObject *v = r->cache[field];
    if (v != NULL) return Py_NewRef(v);
    if (r->req == NULL || r->info.size == 0) {
        static const char *names[] = {"method", "target", "raw_path", "path", "query", "version",
                                      "headers", "body", "peer", "scheme", "host"};
        return PyErr_Format(PyExc_RuntimeError,
                            "Request.%s was first read after the handler returned; read it during the call "
                            "(the library's views are gone)",
                            names[field]);
    }
    const c10k_request_info *in = &r->info;
    switch (field) {
    case F_METHOD: v = cached_text(TEXT_PLAIN_LATIN1, in->method, in->method_len, make_latin1); break;
    case F_TARGET: v = latin1(in->target, in->target_len); break;
    case F_RAW_PATH: v = bytes_of(in->path, in->path_len); break;
    case F_PATH: {
        PyObject *raw = decoded_path(in->path, in->path_len);
        if (raw == NULL) return NULL;
        v = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), "surrogateescape");
        Py_DECREF(raw);
        break;
    }
    case F_QUERY: v = latin1(in->query, in->query_len); break;
    case F_VERSION: v = PyUnicode_FromFormat("HTTP/1.%u", in->version_minor); break;
    case F_HEADERS: {
        PyObject *items = read_headers(r->req, in->header_count);
        if (items == NULL) return NULL;
        v = PyObject_CallOneArg(HeadersClass, items);
        Py_DECREF(items);
        break;
    }
    case F_BODY: v = bytes_of(in->body, in->body_len); break;
    case F_PEER: v = request_peer(r->req); break;
    /* The library names only http and https (in any case): one is 5 long. */
    case F_SCHEME: v = Py_NewRef(in->scheme == NULL ? Py_None : in->scheme_len == 5 ? str_https : str_http);
        break;
    case F_HOST: v = in->host ? latin1(in->host, in->host_len) : Py_NewRef(Py_None); break;
    }
    if (v == NULL) return NULL;
    r->cache[field] = Py_NewRef(v);
    return v;
}

static PyObject *request_keep_alive(RequestObject *r, void *closure) {
    (void)closure;
    return PyBool_FromLong(r->info.keep_alive);
}

static PyObject *request_target_form(RequestObject *r, void *closure) {
    (void)closure;
    uint32_t form = r->info.target_form;
    return Py_NewRef(form < 4 ? target_forms[form] : Py_None);
}

static PyObject *request_port(RequestObject *r, void *closure) {
    (void)closure;
    return r->info.port < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(r->info.port);
}

static PyObject *request_repr(RequestObject *r) {
    PyObject *method = request_field(r, (void *)F_METHOD);
    PyObject *target = method ? request_field(r, (void *)F_TARGET) : NULL;
    if (target == NULL) {
        PyErr_Clear();
        Py_XDECREF(method);
        return PyUnicode_FromString("<Request ? ?>");
    }
    PyObject *s = PyUnicode_FromFormat("<Request %U %U>", method, target);
    Py_DECREF(method);
    Py_DECREF(target);
    return s;
}

#define FIELD(name, id, doc) {name, (getter)request_field, NULL, doc, (void *)(intptr_t)(id)}
static PyGetSetDef request_getset[] = {
    FIELD("method", F_METHOD, "The method, as sent (\"GET\")."),
    FIELD("target", F_TARGET, "The request-target, as sent."),
    FIELD("raw_path", F_RAW_PATH, "The path as sent, not decoded (bytes)."),
    FIELD("path", F_PATH, "The path, percent-decoded (UTF-8, surrogateescape)."),
    FIELD("query", F_QUERY, "The query after '?', not decoded; \"\" if none."),
    FIELD("version", F_VERSION, "\"HTTP/1.1\" or \"HTTP/1.0\"."),
    FIELD("headers", F_HEADERS, "The header fields (c10k.Headers)."),
    FIELD("body", F_BODY, "The body (bytes)."),
    FIELD("peer", F_PEER, "The client's (host, port)."),
    {"keep_alive", (getter)request_keep_alive, NULL, "Whether the connection stays open.", NULL},
    {"target_form", (getter)request_target_form, NULL,
     "\"origin\", \"absolute\", \"authority\" (CONNECT) or \"asterisk\" (OPTIONS *).", NULL},
    FIELD("scheme", F_SCHEME, "\"http\" or \"https\" when an absolute-form target names one, else None."),
    FIELD("host", F_HOST,
          "The host the request is for: an absolute-form target's, else Host's; without the port, an IPv6 "
          "literal in brackets; None only for HTTP/1.0 without Host."),
    {"port", (getter)request_port, NULL, "The port from the same place as host (int); None if none is named.",
     NULL},
    {NULL},
};

static PyTypeObject RequestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k.Request",
    .tp_basicsize = sizeof(RequestObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "An HTTP request, read from the library's views during the handler's call (inline mode).",
    .tp_traverse = (traverseproc)request_traverse,
    .tp_clear = (inquiry)request_clear,
    .tp_dealloc = (destructor)request_dealloc,
    .tp_getset = request_getset,
    .tp_repr = (reprfunc)request_repr,
};

/* ---- answering from C ---- */

static PyObject *ResponseClass; /* c10k._response.Response */
static PyObject *str_status, *str_headers, *str_body, *str_close;

/* Where Response's __slots__ sit in its objects, read by bind(): a
 * returned Response is read without three attribute lookups. */
static struct {
    Py_ssize_t status, headers, body;
} response_slots;

/* The value in the object slot at `offset` of `o` (borrowed; NULL if unset). */
static PyObject *slot_of(PyObject *o, Py_ssize_t offset) { return *(PyObject **)((char *)o + offset); }

/* The offset of the object slot `name` of `type`; -1 with an error set if
 * it is not one. */
static Py_ssize_t slot_offset(PyObject *type, PyObject *name) {
    PyObject *descr = PyObject_GetAttr(type, name);
    if (descr == NULL) return -1;
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type) && ((PyMemberDescrObject *)descr)->d_member->type == T_OBJECT_EX)
        offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    else
        PyErr_Format(PyExc_TypeError, "c10k._native: %R.%U is not a slot", type, name);
    Py_DECREF(descr);
    return offset;
}

/* Sends a whole response given as status, headers and a bytes/str body.
 * 1: sent (or the client is gone); 0: Python must handle it; -1: error set. */
static int respond_parts(c10k_request *req, PyObject *status, PyObject *headers, PyObject *body) {
    if (!PyLong_CheckExact(status)) return 0;
    long code = PyLong_AsLong(status);
    if (code < 100 || code > 999) return 0;
    HeaderArray h;
    if (!header_array(headers, &h)) return 0;
    const uint8_t *data;
    size_t len;
    if (PyBytes_CheckExact(body)) {
        data = (const uint8_t *)PyBytes_AS_STRING(body);
        len = (size_t)PyBytes_GET_SIZE(body);
    } else if (PyUnicode_CheckExact(body)) {
        Py_ssize_t n;
        data = (const uint8_t *)PyUnicode_AsUTF8AndSize(body, &n);
        if (data == NULL) return -1;
        len = (size_t)n;
        add_text_content_type(&h);
    } else {
        return 0;
    }
    int rc = p_c10k_respond(req, (uint16_t)code, h.items, h.n, data, len);
    if (rc == C10K_EINVAL) return 0; /* let Python raise the precise error */
    return 1;
}

/* The handler's result answered from C when its shape allows. */
static int respond_fast(c10k_request *req, PyObject *result) {
    if (PyTuple_CheckExact(result) && PyTuple_GET_SIZE(result) == 3)
        return respond_parts(req, PyTuple_GET_ITEM(result, 0), PyTuple_GET_ITEM(result, 1),
                             PyTuple_GET_ITEM(result, 2));
    if (PyBytes_CheckExact(result)) {
        PyObject *status = PyLong_FromLong(200);
        int rc = respond_parts(req, status, Py_None, result);
        Py_DECREF(status);
        return rc;
    }
    if (PyUnicode_CheckExact(result)) {
        PyObject *status = PyLong_FromLong(200);
        int rc = respond_parts(req, status, Py_None, result);
        Py_DECREF(status);
        return rc;
    }
    if (Py_IS_TYPE(result, (PyTypeObject *)ResponseClass)) {
        PyObject *status = slot_of(result, response_slots.status);
        PyObject *headers = slot_of(result, response_slots.headers);
        PyObject *body = slot_of(result, response_slots.body);
        /* An unset slot: Python raises the AttributeError. */
        return status && headers && body ? respond_parts(req, status, headers, body) : 0;
    }
    return 0;
}

/* ---- marking the threads that run handlers ---- */

/* Whether this thread already ran `mark()` (c10k._server.mark_serving_thread:
 * stop() called from a handler must not wait for the server in turn). */
static _Thread_local int thread_marked;

static void mark_thread(PyObject *mark) {
    if (thread_marked) return;
    thread_marked = 1;
    PyObject *r = PyObject_CallNoArgs(mark);
    if (r == NULL) PyErr_WriteUnraisable(mark);
    Py_XDECREF(r);
}

/* ---- dispatch objects: the user_data of the library's callbacks ---- */

/* What HttpDispatch and WsgiDispatch hold; the object must outlive the
 * listener it was given to. */
typedef struct DispatchObject {
    PyObject_HEAD
    PyObject *app;        /* handler(request), or the WSGI app(environ, start_response) */
    PyObject *fallback;   /* answers what C did not (see the two on_request) */
    PyObject *failed;     /* failed(request or environ, exception): logs a failure */
    PyObject *mark;       /* mark(): run once on each thread that serves */
    PyObject *base;       /* WSGI: the environ keys every request shares */
    PyObject *bodies;     /* WSGI: request bodies (open, feed, abort, done) */
    PyObject *spare;      /* WSGI: an exchange no one holds, for the next call */
    void (*handle)(struct DispatchObject *, c10k_request *); /* one request, GIL held */
    c10k_http_callbacks callbacks;
} DispatchObject;

/* on_request: one request (a worker pool thread, or an upgrade request). */
static void dispatch_on_request(void *user_data, c10k_request *req) {
    PyGILState_STATE gil = PyGILState_Ensure();
    DispatchObject *d = user_data;
    mark_thread(d->mark);
    d->handle(d, req);
    PyGILState_Release(gil);
}

/* on_requests: the requests of one loop turn, under one taking of the GIL. */
static void dispatch_on_requests(void *user_data, c10k_request *const *reqs, size_t n) {
    PyGILState_STATE gil = PyGILState_Ensure();
    DispatchObject *d = user_data;
    mark_thread(d->mark);
    for (size_t i = 0; i < n; i++) d->handle(d, reqs[i]);
    PyGILState_Release(gil);
}

static int dispatch_traverse(DispatchObject *d, visitproc visit, void *arg) {
    Py_VISIT(d->app);
    Py_VISIT(d->fallback);
    Py_VISIT(d->failed);
    Py_VISIT(d->mark);
    Py_VISIT(d->base);
    Py_VISIT(d->bodies);
    Py_VISIT(d->spare);
    return 0;
}

static int dispatch_clear(DispatchObject *d) {
    Py_CLEAR(d->app);
    Py_CLEAR(d->fallback);
    Py_CLEAR(d->failed);
    Py_CLEAR(d->mark);
    Py_CLEAR(d->base);
    Py_CLEAR(d->bodies);
    Py_CLEAR(d->spare);
    return 0;
}

static void dispatch_dealloc(DispatchObject *d) {
    PyObject_GC_UnTrack(d);
    dispatch_clear(d);
    Py_TYPE(d)->tp_free((PyObject *)d);
}

/* A new dispatch answering each request with `handle`; the references
 * are new ones. */
static DispatchObject *dispatch_alloc(PyTypeObject *type, void (*handle)(DispatchObject *, c10k_request *),
                                      PyObject *app, PyObject *fallback, PyObject *failed, PyObject *mark) {
    if (!bound) return (DispatchObject *)PyErr_Format(PyExc_RuntimeError, "c10k._native: bind(path) was not called");
    DispatchObject *d = (DispatchObject *)type->tp_alloc(type, 0);
    if (d == NULL) return NULL;
    d->app = Py_NewRef(app);
    d->fallback = Py_NewRef(fallback);
    d->failed = Py_NewRef(failed);
    d->mark = Py_NewRef(mark);
    d->handle = handle;
    d->callbacks.size = sizeof d->callbacks;
    d->callbacks.on_request = dispatch_on_request;
    d->callbacks.on_requests = dispatch_on_requests;
    return d;
}

/* The addresses the cffi side passes to c10k_http_listen: the callbacks
 * struct and the user_data (this object). */
static PyObject *dispatch_pointers(DispatchObject *d, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("(NN)", PyLong_FromVoidPtr(&d->callbacks), PyLong_FromVoidPtr(d));
}

static PyMethodDef dispatch_methods[] = {
    {"pointers", (PyCFunction)dispatch_pointers, METH_NOARGS,
     "(callbacks address, user_data address) for c10k_http_listen."},
    {NULL},
};

/* ---- HttpDispatch: inline handlers ---- */

/* Logs `request`'s failure through Python (the error indicator is set). */
static void report_failure(PyObject *failed, PyObject *request) {
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (exc != NULL && tb != NULL) PyException_SetTraceback(exc, tb);
    PyObject *r = PyObject_CallFunctionObjArgs(failed, request, exc ? exc : Py_None, NULL);
    if (r == NULL) PyErr_WriteUnraisable(failed);
    Py_XDECREF(r);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
}

static void http_handle(DispatchObject *d, c10k_request *req) {
    RequestObject *request = request_new(req);
    if (request == NULL) {
        PyErr_WriteUnraisable(d->app);
        respond_internal_error(req);
        return;
    }
    PyObject *result = PyObject_CallOneArg(d->app, (PyObject *)request);
    int done = result ? respond_fast(req, result) : -1;
    if (done == 0) {
        PyObject *addr = PyLong_FromVoidPtr(req);
        PyObject *r = addr ? PyObject_CallFunctionObjArgs(d->fallback, addr, request, result, NULL) : NULL;
        Py_XDECREF(addr);
        if (r == NULL) {
            PyErr_WriteUnraisable(d->fallback);
            respond_internal_error(req);
        }
        Py_XDECREF(r);
    } else if (done < 0) {
        report_failure(d->failed, (PyObject *)request);
        respond_internal_error(req);
    }
    Py_XDECREF(result);
    request_detach(request);
    Py_DECREF(request);
}

static PyObject *http_dispatch_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"handler", "fallback", "failed", "mark", NULL};
    PyObject *handler, *fallback, *failed, *mark;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO", kwlist, &handler, &fallback, &failed, &mark))
        return NULL;
    return (PyObject *)dispatch_alloc(type, http_handle, handler, fallback, failed, mark);
}

static PyTypeObject HttpDispatchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._native.HttpDispatch",
    .tp_basicsize = sizeof(DispatchObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "HttpDispatch(handler, fallback, failed, mark): on_request in C for inline handlers.",
    .tp_traverse = (traverseproc)dispatch_traverse,
    .tp_clear = (inquiry)dispatch_clear,
    .tp_dealloc = (destructor)dispatch_dealloc,
    .tp_new = http_dispatch_new,
    .tp_methods = dispatch_methods,
};

/* ---- WSGI ---- */

/* start_response and write() of one WSGI call; the Python side reads
 * `status`, `headers`, `sent` and `take_written()` when it takes over.
 * One that nothing else holds after its call serves the next call (see
 * exchange_reusable): no allocation per request. */
typedef struct {
    PyObject_HEAD
    PyObject *status;  /* str or NULL */
    PyObject *headers; /* list, or NULL before start_response */
    PyObject *written; /* list of bytes */
    PyObject *write;   /* the bound `write` start_response returns; made once */
    int sent;          /* the head went out: a later exc_info re-raises */
    vectorcallfunc vectorcall;
} ExchangeObject;

static PyTypeObject ExchangeType;
static PyObject *str_write;

static int exchange_traverse(ExchangeObject *e, visitproc visit, void *arg) {
    Py_VISIT(e->status);
    Py_VISIT(e->headers);
    Py_VISIT(e->written);
    Py_VISIT(e->write);
    return 0;
}

static int exchange_clear(ExchangeObject *e) {
    Py_CLEAR(e->status);
    Py_CLEAR(e->headers);
    Py_CLEAR(e->written);
    Py_CLEAR(e->write);
    return 0;
}

static void exchange_dealloc(ExchangeObject *e) {
    PyObject_GC_UnTrack(e);
    exchange_clear(e);
    PyObject_GC_Del(e);
}

static PyObject *exchange_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

static ExchangeObject *exchange_new(void) {
    ExchangeObject *e = PyObject_GC_New(ExchangeObject, &ExchangeType);
    if (e == NULL) return NULL;
    e->status = NULL;
    e->headers = NULL;
    e->written = PyList_New(0);
    e->write = NULL;
    e->sent = 0;
    e->vectorcall = exchange_vectorcall;
    PyObject_GC_Track(e);
    if (e->written == NULL) {
        Py_DECREF(e);
        return NULL;
    }
    return e;
}

/* Whether only the caller's reference (and its own `write`'s) holds `e`:
 * then no one can see it any more, and it may serve the next call. */
static int exchange_reusable(ExchangeObject *e) {
    Py_ssize_t own = e->write != NULL && Py_REFCNT(e->write) == 1;
    return Py_REFCNT(e) == 1 + own && (e->write == NULL || own) && PyList_GET_SIZE(e->written) == 0;
}

/* Makes a reusable `e` as new. */
static void exchange_reset(ExchangeObject *e) {
    Py_CLEAR(e->status);
    Py_CLEAR(e->headers);
    e->sent = 0;
}

/* A WSGI status ("200 OK"): its code, or -1 with ValueError set. */
static int status_code(PyObject *status) {
    const uint8_t *s;
    size_t n;
    if (!latin1_view(status, &s, &n) || n < 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
        s[2] < '0' || s[2] > '9' || (n > 3 && s[3] != ' ')) {
        PyErr_Format(PyExc_ValueError, "WSGI status must be a string like '200 OK', not %R", status);
        return -1;
    }
    return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

static PyObject *start_response(ExchangeObject *e, PyObject *status, PyObject *headers, PyObject *exc_info) {
    if (exc_info != Py_None) {
        if (e->sent) {
            /* PEP 3333: too late to change the head; re-raise the app's error. */
            PyObject *value = PySequence_GetItem(exc_info, 1);
            if (value == NULL) return NULL;
            PyErr_SetObject((PyObject *)Py_TYPE(value), value);
            Py_DECREF(value);
            return NULL;
        }
    } else if (e->status != NULL) {
        PyErr_SetString(PyExc_AssertionError, "start_response called a second time without exc_info");
        return NULL;
    }
    if (status_code(status) < 0) return NULL;
    /* A list is kept as given (as wsgiref and bjoern do), other sequences copied. */
    PyObject *list = PyList_CheckExact(headers) ? Py_NewRef(headers) : PySequence_List(headers);
    if (list == NULL) return NULL;
    Py_XSETREF(e->status, Py_NewRef(status));
    Py_XSETREF(e->headers, list);
    if (e->write == NULL && (e->write = PyObject_GetAttr((PyObject *)e, str_write)) == NULL) return NULL;
    return Py_NewRef(e->write);
}

/* start_response(status, headers, exc_info=None), called without a tuple
 * of arguments to build. */
static PyObject *exchange_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    static const char *const names[] = {"status", "headers", "exc_info"};
    PyObject *given[3] = {NULL, NULL, Py_None};
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (n > 3) return PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)", n);
    for (Py_ssize_t i = 0; i < n; i++) given[i] = args[i];
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int at = 0;
        while (at < 3 && PyUnicode_CompareWithASCIIString(key, names[at]) != 0) at++;
        if (at == 3 || at < n)
            return PyErr_Format(PyExc_TypeError, "start_response() got an unexpected or repeated argument %R", key);
        given[at] = args[n + k];
    }
    if (given[0] == NULL || given[1] == NULL)
        return PyErr_Format(PyExc_TypeError, "start_response() needs status and headers");
    return start_response((ExchangeObject *)self, given[0], given[1], given[2]);
}

static PyObject *exchange_write(ExchangeObject *e, PyObject *data) {
    if (e->status == NULL) {
        PyErr_SetString(PyExc_AssertionError, "write() called before start_response()");
        return NULL;
    }
    PyObject *chunk = PyBytes_FromObject(data);
    if (chunk == NULL) return NULL;
    int rc = PyBytes_GET_SIZE(chunk) ? PyList_Append(e->written, chunk) : 0;
    Py_DECREF(chunk);
    if (rc != 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *exchange_take_written(ExchangeObject *e, PyObject *unused) {
    (void)unused;
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL) return NULL;
    PyObject *old = e->written;
    e->written = fresh;
    return old;
}

static PyMethodDef exchange_methods[] = {
    {"write", (PyCFunction)exchange_write, METH_O, "write(data): the WSGI write callable."},
    {"take_written", (PyCFunction)exchange_take_written, METH_NOARGS, "What write() gathered since the last call."},
    {NULL},
};

static PyMemberDef exchange_members[] = {
    {"status", T_OBJECT, offsetof(ExchangeObject, status), READONLY, "The status given, or None."},
    {"headers", T_OBJECT, offsetof(ExchangeObject, headers), READONLY, "The headers given, or None."},
    {"sent", T_BOOL, offsetof(ExchangeObject, sent), 0, "Whether the head went out."},
    {NULL},
};

static PyTypeObject ExchangeType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k.wsgi.StartResponse",
    .tp_basicsize = sizeof(ExchangeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "The start_response callable of one WSGI call.",
    .tp_traverse = (traverseproc)exchange_traverse,
    .tp_clear = (inquiry)exchange_clear,
    .tp_dealloc = (destructor)exchange_dealloc,
    .tp_vectorcall_offset = offsetof(ExchangeObject, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_methods = exchange_methods,
    .tp_members = exchange_members,
};


static PyObject *key_method, *key_path, *key_query, *key_uri, *key_raw_uri, *key_protocol, *key_remote_addr,
    *key_remote_port, *key_http_host, *key_server_name, *key_server_port, *key_input, *key_content_length,
    *str_http10, *str_http11, *str_empty, *str_open, *str_done;


/* The CGI name of a header field: HTTP_ + upper case, '-' as '_';
 * Content-Type and Content-Length without the prefix. NULL for a name
 * holding '_' (it could pass for one spelled with '-': dropped, as other
 * servers do). */
static PyObject *cgi_name(const uint8_t *name, size_t n) {
    char buf[256];
    if (n + 5 >= sizeof buf) return NULL;
    size_t off = 5;
    memcpy(buf, "HTTP_", 5);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = name[i];
        if (c == '_') return NULL;
        if (c >= 'a' && c <= 'z') c -= 'a' - 'A';
        buf[off + i] = c == '-' ? '_' : (char)c;
    }
    const char *start = buf;
    size_t len = off + n;
    if ((n == 12 && memcmp(buf + 5, "CONTENT_TYPE", 12) == 0) ||
        (n == 14 && memcmp(buf + 5, "CONTENT_LENGTH", 14) == 0)) {
        start += 5;
        len -= 5;
    }
    /* Interned: the application's own "HTTP_HOST" finds it by identity. */
    PyObject *key = PyUnicode_DecodeLatin1(start, (Py_ssize_t)len, NULL);
    if (key != NULL) PyUnicode_InternInPlace(&key);
    return key;
}

static int add_header(PyObject *environ, const uint8_t *name, size_t name_len, const uint8_t *value,
                      size_t value_len) {
    PyObject *key = cached_text(TEXT_CGI_NAME, name, name_len, cgi_name);
    if (key == NULL) return PyErr_Occurred() ? -1 : 0;
    PyObject *v = cached_text(TEXT_PLAIN_LATIN1, value, value_len, make_latin1);
    PyObject *old = v ? PyDict_GetItemWithError(environ, key) : NULL;
    if (old != NULL && PyUnicode_Check(old)) {
        /* A repeated field: the values joined with commas (RFC 9110 5.3). */
        Py_SETREF(v, PyUnicode_FromFormat("%U,%U", old, v));
    }
    int rc = v ? PyDict_SetItem(environ, key, v) : -1;
    Py_XDECREF(v);
    Py_DECREF(key);
    return rc;
}

/* Client ports as str, by port: a connection's requests share one. */
static struct {
    PyObject *str;
    long port;
} port_cache[256];

static PyObject *port_text(const char *digits) {
    long port = 0;
    for (const char *d = digits; port <= 65535 && *d >= '0' && *d <= '9'; d++) port = port * 10 + (*d - '0');
    if (port > 65535) return PyUnicode_FromString(digits);
    __typeof__(port_cache[0]) *slot = &port_cache[port % 256];
    if (slot->str == NULL || slot->port != port) {
        PyObject *str = PyUnicode_FromString(digits);
        if (str == NULL) return NULL;
        Py_XSETREF(slot->str, str);
        slot->port = port;
    }
    return Py_NewRef(slot->str);
}

/* PEP 3333 rebuilds the URL from HTTP_HOST, else SERVER_NAME and
 * SERVER_PORT: for an absolute-form target all three name its authority,
 * which overrides Host (RFC 9112 section 3.2.2). A URI without a port
 * means its scheme's default. */
static int set_target_authority(PyObject *environ, const c10k_request_info *in) {
    long port = in->port >= 0 ? in->port : in->scheme_len == 5 ? 443 : 80;
    PyObject *name = latin1(in->host, in->host_len);
    if (name == NULL) return -1;
    PyObject *host = in->port >= 0 ? PyUnicode_FromFormat("%U:%ld", name, port) : Py_NewRef(name);
    int rc = set_steal(environ, key_http_host, host) || PyDict_SetItem(environ, key_server_name, name) ||
             set_steal(environ, key_server_port, PyUnicode_FromFormat("%ld", port));
    Py_DECREF(name);
    return rc ? -1 : 0;
}

/* The environ of `req`; `*input` is a new reference to the wsgi.input
 * opened for its body (the app may replace environ's), or NULL when it has
 * the shared empty one. */
/* PEP 3333's PATH_INFO: the decoded bytes of the path as latin-1 text;
 * `decoded` is None when the path has no escape to decode. */
static PyObject *path_info(PyObject *decoded, const c10k_request_info *in) {
    if (decoded == Py_None) return latin1(in->path, in->path_len);
    return latin1((const uint8_t *)PyBytes_AS_STRING(decoded), (size_t)PyBytes_GET_SIZE(decoded));
}

static PyObject *wsgi_environ(DispatchObject *w, c10k_request *req, PyObject **input) {
    *input = NULL;
    c10k_request_info in = {.size = sizeof in};
    if (p_c10k_request_get_info(req, &in) != 0) return PyErr_Format(PyExc_RuntimeError, "c10k_request_get_info failed");
    PyObject *env = PyDict_Copy(w->base);
    if (env == NULL) return NULL;
    /* Decoded only when it holds an escape. */
    PyObject *path = in.path_len && memchr(in.path, '%', in.path_len) ? decoded_path(in.path, in.path_len) : Py_NewRef(Py_None);
    char addr[C10K_ADDRSTRLEN];
    const char *host = addr, *port = "0";
    size_t host_len = 0;
    if (p_c10k_request_peer_addr(req, addr, sizeof addr) != 0 || !split_addr(addr, &host, &host_len, &port)) {
        host_len = 0;
        port = "0";
    }
    PyObject *uri = latin1(in.target, in.target_len);
    if (path == NULL || uri == NULL ||
        set_steal(env, key_method, cached_text(TEXT_PLAIN_LATIN1, in.method, in.method_len, make_latin1)) ||
        set_steal(env, key_path, path_info(path, &in)) ||
        set_steal(env, key_query, latin1(in.query, in.query_len)) || PyDict_SetItem(env, key_uri, uri) ||
        PyDict_SetItem(env, key_raw_uri, uri) ||
        PyDict_SetItem(env, key_protocol, in.version_minor ? str_http11 : str_http10) ||
        set_steal(env, key_remote_addr, cached_text(TEXT_PLAIN_LATIN1, (const uint8_t *)host, host_len, make_latin1)) ||
        set_steal(env, key_remote_port, port_text(port))) {
        Py_XDECREF(path);
        Py_XDECREF(uri);
        Py_DECREF(env);
        return NULL;
    }
    Py_DECREF(path);
    Py_DECREF(uri);
    /* A body, buffered (body_len) or still to stream (framing headers). */
    int has_body = in.body_len > 0;
    for (size_t i = 0; i < in.header_count; i++) {
        const uint8_t *name, *value;
        size_t name_len, value_len;
        if (p_c10k_request_header_at(req, i, &name, &name_len, &value, &value_len) != 0) break;
        c10k_header h = {name, name_len, value, value_len};
        if (is_named(&h, "transfer-encoding") || (is_named(&h, "content-length") && !(value_len == 1 && value[0] == '0')))
            has_body = 1;
        if (add_header(env, name, name_len, value, value_len) != 0) {
            Py_DECREF(env);
            return NULL;
        }
    }
    if (in.target_form == C10K_TARGET_ABSOLUTE && set_target_authority(env, &in) != 0) {
        Py_DECREF(env);
        return NULL;
    }
    /* Without a body, wsgi.input is the shared empty one from `base`. */
    if (has_body) {
        PyObject *addr = PyLong_FromVoidPtr(req);
        PyObject *opened = addr ? PyObject_CallMethodObjArgs(w->bodies, str_open, addr, NULL) : NULL;
        Py_XDECREF(addr);
        if (set_steal(env, key_input, opened) != 0) {
            Py_DECREF(env);
            return NULL;
        }
        *input = Py_NewRef(opened);
    }
    if (in.body_len > 0 && PyDict_GetItemWithError(env, key_content_length) == NULL) {
        /* A chunked body was read whole: its length is known now. */
        if (PyErr_Occurred() || set_steal(env, key_content_length, PyUnicode_FromFormat("%zu", in.body_len))) {
            Py_CLEAR(*input);
            Py_DECREF(env);
            return NULL;
        }
    }
    return env;
}

/* Calls result.close() if it has one; -1 with the error set if it raised. */
static int close_result(PyObject *result) {
    /* The usual `[body]` has none: no failed lookup (an AttributeError) to pay for. */
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return 0;
    PyObject *close;
    int found = PyObject_GetOptionalAttr(result, str_close, &close);
    if (found <= 0) return found;
    PyObject *r = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    if (r == NULL) return -1;
    Py_DECREF(r);
    return 0;
}

/* Answers a WSGI result that is a list or tuple of bytes (the usual
 * `[body]`). 1: sent; 0: Python must handle it; -1: error set. */
static int wsgi_respond_fast(c10k_request *req, ExchangeObject *e, PyObject *result) {
    if (!PyList_CheckExact(result) && !PyTuple_CheckExact(result)) return 0;
    if (e->status == NULL || PyList_GET_SIZE(e->written) != 0) return 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(result);
    PyObject **items = PySequence_Fast_ITEMS(result);
    for (Py_ssize_t i = 0; i < count; i++)
        if (!PyBytes_CheckExact(items[i])) return 0;
    int code = status_code(e->status);
    if (code < 0) return -1;
    const uint8_t *status;
    size_t status_len;
    latin1_view(e->status, &status, &status_len);
    /* The application's reason phrase ("200 OK" needs no call). */
    if (status_len > 4 && !(status_len == 6 && memcmp(status + 4, "OK", 2) == 0) &&
        p_c10k_request_set_reason(req, status + 4, status_len - 4) != 0)
        return 0; /* Python reports the bad phrase */
    HeaderArray h;
    if (!header_array(e->headers, &h)) return 0;
    PyObject *joined = NULL;
    const uint8_t *data = (const uint8_t *)"";
    size_t len = 0;
    if (count == 1) {
        data = (const uint8_t *)PyBytes_AS_STRING(items[0]);
        len = (size_t)PyBytes_GET_SIZE(items[0]);
    } else if (count > 1) {
        joined = _PyBytes_Join(str_empty, result);
        if (joined == NULL) return -1;
        data = (const uint8_t *)PyBytes_AS_STRING(joined);
        len = (size_t)PyBytes_GET_SIZE(joined);
    }
    int rc = p_c10k_respond(req, (uint16_t)code, h.items, h.n, data, len);
    Py_XDECREF(joined);
    if (rc == C10K_EINVAL) return 0;
    e->sent = 1;
    return 1;
}

static void wsgi_handle(DispatchObject *w, c10k_request *req) {
    ExchangeObject *e = NULL;
    PyObject *result = NULL;
    PyObject *input;
    PyObject *environ = wsgi_environ(w, req, &input);
    if (environ == NULL) {
        report_failure(w->failed, Py_None);
        respond_internal_error(req);
        return;
    }
    if (w->spare != NULL) {
        e = (ExchangeObject *)w->spare;
        w->spare = NULL;
    } else {
        e = exchange_new();
    }
    result = e ? PyObject_CallFunctionObjArgs(w->app, environ, (PyObject *)e, NULL) : NULL;
    int done = result ? wsgi_respond_fast(req, e, result) : -1;
    if (done == 1) {
        if (close_result(result) < 0) report_failure(w->failed, environ);
    } else if (done == 0) {
        PyObject *addr = PyLong_FromVoidPtr(req);
        PyObject *r = addr ? PyObject_CallFunctionObjArgs(w->fallback, addr, environ, e, result, NULL) : NULL;
        Py_XDECREF(addr);
        if (r == NULL) {
            PyErr_WriteUnraisable(w->fallback);
            respond_internal_error(req);
        }
        Py_XDECREF(r);
    } else {
        report_failure(w->failed, environ);
        if (result != NULL && close_result(result) < 0) PyErr_WriteUnraisable(w->app);
        respond_internal_error(req);
    }
    if (input != NULL) {
        /* The exchange is over: what the app left of a streamed body is dropped. */
        PyObject *r = PyObject_CallMethodObjArgs(w->bodies, str_done, input, NULL);
        if (r == NULL) PyErr_WriteUnraisable(w->bodies);
        Py_XDECREF(r);
        Py_DECREF(input);
    }
    Py_XDECREF(result);
    if (e != NULL && w->spare == NULL && exchange_reusable(e)) {
        exchange_reset(e);
        w->spare = (PyObject *)e;
    } else {
        Py_XDECREF(e);
    }
    Py_DECREF(environ);
}

/* on_body (loop thread): a piece of a streamed body, to `bodies.feed`. */
static bool wsgi_on_body(void *user_data, uint64_t reply, const uint8_t *data, size_t len, bool end) {
    PyGILState_STATE gil = PyGILState_Ensure();
    DispatchObject *w = user_data;
    PyObject *r = PyObject_CallMethod(w->bodies, "feed", "KNO", (unsigned long long)reply, bytes_of(data, len),
                                      end ? Py_True : Py_False);
    int more = r == NULL ? 1 : PyObject_IsTrue(r);
    if (r == NULL || more < 0) PyErr_WriteUnraisable(w->bodies);
    Py_XDECREF(r);
    PyGILState_Release(gil);
    return more != 0;
}

/* on_abort (loop thread): the client of a deferred reply left. */
static void wsgi_on_abort(void *user_data, uint64_t reply) {
    PyGILState_STATE gil = PyGILState_Ensure();
    DispatchObject *w = user_data;
    PyObject *r = PyObject_CallMethod(w->bodies, "abort", "K", (unsigned long long)reply);
    if (r == NULL) PyErr_WriteUnraisable(w->bodies);
    Py_XDECREF(r);
    PyGILState_Release(gil);
}

static PyObject *wsgi_dispatch_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"app", "base", "bodies", "fallback", "failed", "mark", NULL};
    PyObject *app, *base, *bodies, *fallback, *failed, *mark;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO!OOOO", kwlist, &app, &PyDict_Type, &base, &bodies, &fallback,
                                     &failed, &mark))
        return NULL;
    DispatchObject *w = dispatch_alloc(type, wsgi_handle, app, fallback, failed, mark);
    if (w != NULL) {
        w->base = Py_NewRef(base);
        w->bodies = Py_NewRef(bodies);
        w->callbacks.on_body = wsgi_on_body;
        w->callbacks.on_abort = wsgi_on_abort;
    }
    return (PyObject *)w;
}

static PyTypeObject WsgiDispatchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "c10k._native.WsgiDispatch",
    .tp_basicsize = sizeof(DispatchObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "WsgiDispatch(app, base, bodies, fallback, failed, mark): on_request in C for a WSGI app.",
    .tp_traverse = (traverseproc)dispatch_traverse,
    .tp_clear = (inquiry)dispatch_clear,
    .tp_dealloc = (destructor)dispatch_dealloc,
    .tp_new = wsgi_dispatch_new,
    .tp_methods = dispatch_methods,
};

/* ---- module ---- */

static PyObject *native_bind(PyObject *module, PyObject *args) {
    (void)module;
    const char *path;
    PyObject *headers_class, *response_class;
    if (!PyArg_ParseTuple(args, "sOO:bind", &path, &headers_class, &response_class)) return NULL;
    if (resolve_functions("c10k._native", path) != 0) return NULL;
    if (!PyType_Check(response_class) || (response_slots.status = slot_offset(response_class, str_status)) < 0 ||
        (response_slots.headers = slot_offset(response_class, str_headers)) < 0 ||
        (response_slots.body = slot_offset(response_class, str_body)) < 0)
        return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_TypeError, "c10k._native: Response must be a class");
    Py_XSETREF(HeadersClass, Py_NewRef(headers_class));
    Py_XSETREF(ResponseClass, Py_NewRef(response_class));
    bound = 1;
    Py_RETURN_NONE;
}

static PyObject *native_status_code(PyObject *module, PyObject *status) {
    (void)module;
    int code = status_code(status);
    return code < 0 ? NULL : PyLong_FromLong(code);
}

static PyMethodDef native_methods[] = {
    {"bind", native_bind, METH_VARARGS,
     "bind(library_path, Headers, Response): resolves the library's functions in the library cffi opened."},
    {"status_code", native_status_code, METH_O, "The code of a WSGI status line ('200 OK' -> 200)."},
    {NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, .m_name = "c10k._native",
    .m_doc = "The compiled per-request path of c10k (inline handlers and WSGI).", .m_size = -1,
    .m_methods = native_methods,
};

PyMODINIT_FUNC PyInit__native(void) {
    if (intern(&str_status, "status") || intern(&str_headers, "headers") || intern(&str_body, "body") ||
        intern(&str_close, "close") || intern(&str_write, "write") || intern(&key_method, "REQUEST_METHOD") || intern(&key_path, "PATH_INFO") ||
        intern(&key_query, "QUERY_STRING") || intern(&key_uri, "REQUEST_URI") || intern(&key_raw_uri, "RAW_URI") ||
        intern(&key_protocol, "SERVER_PROTOCOL") || intern(&key_remote_addr, "REMOTE_ADDR") ||
        intern(&key_remote_port, "REMOTE_PORT") || intern(&key_http_host, "HTTP_HOST") ||
        intern(&key_server_name, "SERVER_NAME") || intern(&key_server_port, "SERVER_PORT") ||
        intern(&str_http, "http") || intern(&str_https, "https") ||
        intern(&target_forms[C10K_TARGET_ORIGIN], "origin") ||
        intern(&target_forms[C10K_TARGET_ABSOLUTE], "absolute") ||
        intern(&target_forms[C10K_TARGET_AUTHORITY], "authority") ||
        intern(&target_forms[C10K_TARGET_ASTERISK], "asterisk") || intern(&key_input, "wsgi.input") ||
        intern(&str_open, "open") || intern(&str_done, "done") ||
        intern(&key_content_length, "CONTENT_LENGTH") || intern(&str_http10, "HTTP/1.0") ||
        intern(&str_http11, "HTTP/1.1"))
        return NULL;
    str_empty = PyBytes_FromStringAndSize("", 0);
    if (str_empty == NULL) return NULL;
    if (PyType_Ready(&RequestType) < 0 || PyType_Ready(&HttpDispatchType) < 0 || PyType_Ready(&ExchangeType) < 0 ||
        PyType_Ready(&WsgiDispatchType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    if (PyModule_AddType(m, &RequestType) < 0 || PyModule_AddType(m, &HttpDispatchType) < 0 ||
        PyModule_AddType(m, &ExchangeType) < 0 || PyModule_AddType(m, &WsgiDispatchType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
