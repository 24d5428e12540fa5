/* static_files: serves a directory, with files sent by sendfile(2).
 *
 * Usage: static_files ROOT [ADDR] [--loops N] [--list]
 *
 * - Content-Type by extension; Last-Modified, and 304 for If-Modified-Since
 *   (any HTTP-date form; ignored when in the future or with If-None-Match);
 *   a single "Range: bytes=..." gives 206 (or 416 when unsatisfiable); a
 *   malformed Range such as "bytes=-" is ignored (200, whole file).
 * - Opening never blocks the loop: O_NONBLOCK, and anything but a regular
 *   file or a directory (a FIFO, a device) is refused with 403.
 * - No escape from ROOT: the path is percent-decoded first, "..", and NUL
 *   bytes are refused (403/400), and every file is opened with openat2(2)
 *   and RESOLVE_BENEATH, so that no symlink can lead outside ROOT either: one
 *   system call, where realpath(3) would walk every path component.
 * - Directories: index.html if present; a listing only with --list;
 *   otherwise 403. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE
#include "common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int root_fd = -1;
static int list_dirs;

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
    {".css", "text/css"}, {".js", "text/javascript"}, {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
    {".ico", "image/x-icon"}, {".pdf", "application/pdf"}, {".wasm", "application/wasm"},
};

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

static c10k_header header(const char *name, const char *value) {
    c10k_header h = {(const uint8_t *)name, strlen(name), (const uint8_t *)value, strlen(value)};
    return h;
}

static void answer(c10k_request *req, uint16_t status, const char *text) {
    c10k_header h = header("Content-Type", "text/plain; charset=utf-8");
    c10k_respond(req, status, &h, 1, (const uint8_t *)text, strlen(text));
}

/* The request's header `name` as a NUL-terminated copy in buf, or NULL. */
static const char *header_value(c10k_request *req, const char *name, char *buf, size_t cap) {
    const uint8_t *value;
    size_t len;
    if (c10k_request_header(req, name, &value, &len) != 0 || len >= cap) {
        return NULL;
    }
    memcpy(buf, value, len);
    buf[len] = '\0';
    return buf;
}

/* Decodes the request path into buf and checks it: 0, or an HTTP status. */
static int safe_path(c10k_request *req, char *buf, size_t cap) {
    const uint8_t *path;
    size_t len, decoded;
    c10k_request_path(req, &path, &len);
    if (c10k_percent_decode(path, len, false, (uint8_t *)buf, cap - 1, &decoded) != 0) {
        return 400;
    }
    buf[decoded] = '\0';
    if (strlen(buf) != decoded || buf[0] != '/') {
        return 400; /* a NUL inside, or not absolute */
    }
    for (const char *seg = buf; seg; seg = strchr(seg + 1, '/')) {
        if (strncmp(seg, "/..", 3) == 0 && (seg[3] == '/' || seg[3] == '\0')) {
            return 403;
        }
    }
    return 0;
}

/* Opens `rel` below the directory `dir`, never leaving ROOT (symlinks
 * included). Returns the descriptor, or minus an HTTP status. */
static int open_beneath(int dir, const char *rel) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* O_NONBLOCK: opening a FIFO would otherwise wait for a writer and
     * freeze the loop; non-regular files are refused after fstat. */
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dir, *rel ? rel : ".", &how, sizeof how);
    if (fd >= 0) {
        return (int)fd;
    }
    return errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG ? -404 : -403;
}

static void http_date(time_t t, char *buf, size_t cap) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 9110 13.1.3: If-Modified-Since counts only without If-None-Match,
 * when it is a valid HTTP-date (any of the three forms), and when that
 * date is not in the future. */
static int not_modified_since(c10k_request *req, time_t mtime) {
    const uint8_t *value;
    size_t len;
    int64_t since;
    if (c10k_request_header(req, "If-None-Match", &value, &len) == 0 ||
        c10k_request_header(req, "If-Modified-Since", &value, &len) != 0 ||
        c10k_http_date_parse(value, len, &since) != 0 || since > (int64_t)time(NULL)) {
        return 0;
    }
    return (int64_t)mtime <= since;
}

/* Parses a single "bytes=a-b" range against size: 1 and the range, 0 for
 * no (usable) Range header, -1 when unsatisfiable. */
static int byte_range(c10k_request *req, off_t size, off_t *first, off_t *last) {
    char value[128];
    if (!header_value(req, "Range", value, sizeof value) || strncmp(value, "bytes=", 6) != 0 || strchr(value, ',')) {
        return 0; /* absent, another unit, or several ranges: send it all */
    }
    char *dash = strchr(value + 6, '-');
    if (!dash || (dash == value + 6 && !isdigit((unsigned char)dash[1])) ||
        (dash > value + 6 && !isdigit((unsigned char)value[6])) || (dash[1] && !isdigit((unsigned char)dash[1]))) {
        return 0; /* "bytes=-" and other malformed ranges: ignored (RFC 9110 14.2) */
    }
    char *end;
    if (dash == value + 6) { /* "-N": the last N bytes */
        long long n = strtoll(dash + 1, &end, 10);
        if (*end || n <= 0) {
            return n == 0 && !*end ? -1 : 0;
        }
        *first = n >= size ? 0 : size - n;
        *last = size - 1;
        return size > 0 ? 1 : -1;
    }
    long long a = strtoll(value + 6, &end, 10);
    if (end != dash || a < 0) {
        return 0;
    }
    long long b = dash[1] ? strtoll(dash + 1, &end, 10) : (long long)size - 1;
    if (dash[1] && (*end || b < a)) {
        return 0;
    }
    if (a >= size) {
        return -1;
    }
    *first = a;
    *last = b >= size ? size - 1 : b;
    return 1;
}

/* Answers with the open file `fd`; `path` names its Content-Type. */
static void send_file(c10k_request *req, int fd, const char *path, const struct stat *st) {
    char modified[64], range[96];
    http_date(st->st_mtime, modified, sizeof modified);
    c10k_header headers[4] = {header("Content-Type", content_type(path)), header("Last-Modified", modified),
                              header("Accept-Ranges", "bytes")};
    size_t n = 3;
    off_t first = 0, last = st->st_size - 1;

    if (not_modified_since(req, st->st_mtime)) {
        c10k_respond(req, 304, headers + 1, 2, NULL, 0);
    } else {
        switch (byte_range(req, st->st_size, &first, &last)) {
        case 1:
            snprintf(range, sizeof range, "bytes %lld-%lld/%lld", (long long)first, (long long)last, (long long)st->st_size);
            headers[n++] = header("Content-Range", range);
            c10k_respond_file(req, 206, headers, n, fd, (uint64_t)first, (uint64_t)(last - first + 1));
            break;
        case -1:
            snprintf(range, sizeof range, "bytes */%lld", (long long)st->st_size);
            headers[0] = header("Content-Range", range);
            c10k_respond(req, 416, headers, 1, NULL, 0);
            break;
        default:
            c10k_respond_file(req, 200, headers, n, fd, 0, (uint64_t)st->st_size);
        }
    }
}

/* An HTML list of the directory's entries (only with --list). */
static void send_listing(c10k_request *req, int dir, const char *url_path) {
    int own = dup(dir); /* closedir closes it */
    DIR *d = own >= 0 ? fdopendir(own) : NULL;
    if (!d) {
        if (own >= 0) {
            close(own);
        }
        answer(req, 403, "Forbidden\n");
        return;
    }
    size_t cap = 4096, len = 0;
    char *html = malloc(cap);
    len += (size_t)snprintf(html, cap, "<!doctype html><title>%s</title><ul>\n", url_path);
    for (struct dirent *e; html && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strpbrk(e->d_name, "<>&\"'")) {
            continue; /* hidden, or a name that would need escaping */
        }
        size_t need = 2 * strlen(e->d_name) + 32;
        if (len + need >= cap) {
            char *bigger = realloc(html, cap = 2 * cap + need);
            if (!bigger) {
                break;
            }
            html = bigger;
        }
        len += (size_t)snprintf(html + len, cap - len, "<li><a href=\"%s\">%s</a>\n", e->d_name, e->d_name);
    }
    closedir(d);
    c10k_header h = header("Content-Type", "text/html; charset=utf-8");
    c10k_respond(req, 200, &h, 1, (const uint8_t *)html, html ? len : 0);
    free(html);
}

static void serve_directory(c10k_request *req, const char *url_path, int dir) {
    struct stat st;
    int index = -1;
    if (url_path[strlen(url_path) - 1] != '/') {
        char location[PATH_MAX + 2];
        snprintf(location, sizeof location, "%s/", url_path);
        c10k_header h = header("Location", location);
        c10k_respond(req, 301, &h, 1, NULL, 0);
    } else if ((index = open_beneath(dir, "index.html")) >= 0 && fstat(index, &st) == 0 && S_ISREG(st.st_mode)) {
        send_file(req, index, "index.html", &st);
    } else if (list_dirs) {
        send_listing(req, dir, url_path);
    } else {
        answer(req, 403, "Forbidden\n");
    }
    if (index >= 0) {
        close(index);
    }
}

static void on_request(void *user_data, c10k_request *req) {
    (void)user_data;
    const uint8_t *method;
    size_t method_len;
    c10k_request_method(req, &method, &method_len);
    if (!view_is(method, method_len, "GET") && !view_is(method, method_len, "HEAD")) {
        c10k_header allow = HEADER("Allow", "GET, HEAD");
        c10k_respond(req, 405, &allow, 1, NULL, 0);
        return;
    }
    char path[PATH_MAX];
    struct stat st;
    int fd = -1;
    int status = safe_path(req, path, sizeof path);
    if (status == 0 && (fd = open_beneath(root_fd, path + 1)) < 0) {
        status = -fd;
    }
    if (status == 0 && fstat(fd, &st) != 0) {
        status = 404;
    }
    if (status != 0) {
        answer(req, (uint16_t)status, status == 404 ? "Not Found\n" : status == 403 ? "Forbidden\n" : "Bad Request\n");
    } else if (S_ISDIR(st.st_mode)) {
        serve_directory(req, path, fd);
    } else if (S_ISREG(st.st_mode)) {
        send_file(req, fd, path, &st); /* the library duplicates what it keeps */
    } else {
        answer(req, 403, "Forbidden\n");
    }
    if (fd >= 0) {
        close(fd);
    }
}

int main(int argc, char **argv) {
    const char *dir = positional(argc, argv, 0, NULL);
    if (!dir || (root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "usage: static_files ROOT [ADDR] [--loops N] [--list]\n");
        return 2;
    }
    int probe = open_beneath(root_fd, ".");
    if (probe < 0) {
        fprintf(stderr, "static_files: openat2(2) with RESOLVE_BENEATH is needed (Linux 5.6 or later)\n");
        return 2;
    }
    close(probe);
    for (int i = 1; i < argc; i++) {
        list_dirs |= strcmp(argv[i], "--list") == 0;
    }
    const char *addr = positional(argc, argv, 1, "127.0.0.1:8080");
    c10k_http_callbacks callbacks = {.size = sizeof(c10k_http_callbacks), .on_request = on_request};
    c10k_server *server = http_server(addr, option(argc, argv, "--loops", 1), 0, &callbacks, NULL);
    return server ? serve_until_signal(server) : 1;
}
