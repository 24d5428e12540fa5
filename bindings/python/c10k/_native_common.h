/* What the binding's C extensions share (`_native.c`, `_asgi_native.c`).
 *
 * Include after <Python.h> and "c10k.h", with C10K_FUNCTIONS(X) defined: the
 * library functions the extension calls (c10k_percent_decode among them).
 * Each extension gets its own pointers, resolved by `resolve_functions` with
 * dlsym() in the very library cffi opened, so one copy of the library
 * serves every extension (`C10K_LIB` included).
 */
#ifndef C10K_NATIVE_COMMON_H
#define C10K_NATIVE_COMMON_H

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) {
    Py_INCREF(o);
    return o;
}
#define Py_NewRef(o) Py_NewRef((PyObject *)(o))
#endif

/* ---- the library's functions ---- */

#define DECLARE(name) static __typeof__(name) *p_##name;
C10K_FUNCTIONS(DECLARE)
#undef DECLARE

/* Resolves C10K_FUNCTIONS in the library at `path` (already loaded by cffi:
 * dlopen() of a loaded path returns it). 0, or -1 with ImportError set. */
static int resolve_functions(const char *module, const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        PyErr_Format(PyExc_ImportError, "%s: %s", module, dlerror());
        return -1;
    }
#define RESOLVE(name)                                                                  \
    p_##name = (__typeof__(name) *)dlsym(lib, #name);                                  \
    if (p_##name == NULL) {                                                            \
        PyErr_Format(PyExc_ImportError, "%s: %s lacks %s", module, path, #name);      \
        return -1;                                                                     \
    }
    C10K_FUNCTIONS(RESOLVE)
#undef RESOLVE
    return 0;
}

/* ---- bytes views of Python objects ---- */

/* Most responses have a handful of headers; more go through Python. */
#define MAX_HEADERS 64

/* A latin-1 view of a str (a compact one-byte string) or of bytes; 0 when
 * `o` has no such view (the caller then lets Python handle the value). */
static int latin1_view(PyObject *o, const uint8_t **ptr, size_t *len) {
    if (PyBytes_CheckExact(o)) {
        *ptr = (const uint8_t *)PyBytes_AS_STRING(o);
        *len = (size_t)PyBytes_GET_SIZE(o);
        return 1;
    }
    if (PyUnicode_CheckExact(o) && PyUnicode_KIND(o) == PyUnicode_1BYTE_KIND) {
        *ptr = PyUnicode_1BYTE_DATA(o);
        *len = (size_t)PyUnicode_GET_LENGTH(o);
        return 1;
    }
    return 0;
}

/* Whether the field's name is `name` (lowercase), in any case. */
static int is_named(const c10k_header *h, const char *name) {
    size_t n = strlen(name);
    if (h->name_len != n) return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = h->name[i];
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
        if (c != (uint8_t)name[i]) return 0;
    }
    return 1;
}

typedef struct {
    c10k_header items[MAX_HEADERS + 1]; /* one spare for a Content-Type we add */
    size_t n;
} HeaderArray;

/* Fills `out` from a list/tuple of 2-tuples, or a dict, of str/bytes
 * (borrowed: `headers` must outlive the use of `out`). 0 when a value needs
 * Python (an int, non-latin-1 text, too many fields). */
static int header_array(PyObject *headers, HeaderArray *out) {
    out->n = 0;
    if (headers == Py_None) return 1;
    if (PyDict_CheckExact(headers)) {
        Py_ssize_t pos = 0;
        PyObject *name, *value;
        while (PyDict_Next(headers, &pos, &name, &value)) {
            if (out->n == MAX_HEADERS) return 0;
            c10k_header *h = &out->items[out->n++];
            if (!latin1_view(name, &h->name, &h->name_len) || !latin1_view(value, &h->value, &h->value_len)) return 0;
        }
        return 1;
    }
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) return 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(headers);
    if (count > MAX_HEADERS) return 0;
    PyObject **fields = PySequence_Fast_ITEMS(headers);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = fields[i];
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) return 0;
        c10k_header *h = &out->items[out->n++];
        if (!latin1_view(PyTuple_GET_ITEM(pair, 0), &h->name, &h->name_len) ||
            !latin1_view(PyTuple_GET_ITEM(pair, 1), &h->value, &h->value_len))
            return 0;
    }
    return 1;
}

/* ---- Python objects of the library's views ---- */

static int intern(PyObject **slot, const char *text) {
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

/* Sets dict[key] = value, stealing value (NULL: an error is set). */
static int set_steal(PyObject *dict, PyObject *key, PyObject *value) {
    if (value == NULL) return -1;
    int rc = PyDict_SetItem(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* Splits the library's "host:port" or "[v6]:port": the host without
 * brackets, the port's digits. 0 when `text` has no port. */
static int split_addr(const char *text, const char **host, size_t *host_len, const char **port) {
    const char *colon = strrchr(text, ':');
    if (colon == NULL) return 0;
    *host = text;
    *host_len = (size_t)(colon - text);
    if (*host_len >= 2 && text[0] == '[' && text[*host_len - 1] == ']') {
        (*host)++;
        *host_len -= 2;
    }
    *port = colon + 1;
    return 1;
}

static PyObject *latin1(const uint8_t *p, size_t n) {
    return PyUnicode_DecodeLatin1((const char *)(p ? p : (const uint8_t *)""), (Py_ssize_t)n, NULL);
}

static PyObject *bytes_of(const uint8_t *p, size_t n) {
    return PyBytes_FromStringAndSize((const char *)(p ? p : (const uint8_t *)""), (Py_ssize_t)n);
}

/* The percent-decoded path as bytes; a malformed escape keeps it as sent. */
static PyObject *decoded_path(const uint8_t *raw, size_t n) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)n);
    if (out == NULL) return NULL;
    size_t len = 0;
    if (n == 0 || p_c10k_percent_decode(raw, n, false, (uint8_t *)PyBytes_AS_STRING(out), n, &len) != 0) {
        Py_DECREF(out);
        return bytes_of(raw, n);
    }
    if (len != n && _PyBytes_Resize(&out, (Py_ssize_t)len) != 0) return NULL;
    return out;
}

#endif
