/*
 * rpc-server (--unix PATH | [--host HOST] PORT)
 *
 * An implementation of lab `rpc`'s server written from the contract alone
 * (shared/CONTRACT.md), in plain C with libc and POSIX threads, to show that
 * the grader checks the contract and not the reference's quirks.
 * Build: cc -O2 -pthread -o rpc-server rpc-server.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define MAX_LEN 1048576u
#define USAGE "usage: rpc-server (--unix PATH | [--host HOST] PORT)\n"

static const char *socket_file; /* set once bound: removed on SIGINT/SIGTERM */

static int usage(void) {
    fputs(USAGE, stderr);
    return 2;
}

static void die(const char *context, int err) {
    fprintf(stderr, "rpc-server: %s: %s\n", context, strerror(err));
    exit(1);
}

/* ---- byte order ---- */

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (24 - 8 * i); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (56 - 8 * i); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* A reply being built: LEN, ID, STATUS, then results. */
struct buf { unsigned char *data; size_t len, cap; };

static void grow(struct buf *b, size_t more) {
    if (b->len + more > b->cap) {
        b->cap = (b->len + more) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) { perror("rpc-server: realloc"); exit(1); }
    }
}
static void add8(struct buf *b, uint8_t v) { grow(b, 1); b->data[b->len++] = v; }
static void add32(struct buf *b, uint32_t v) { grow(b, 4); put32(b->data + b->len, v); b->len += 4; }
static void add64(struct buf *b, uint64_t v) { grow(b, 8); put64(b->data + b->len, v); b->len += 8; }
static void addstr(struct buf *b, const unsigned char *s, size_t n) {
    add32(b, (uint32_t)n); grow(b, n); memcpy(b->data + b->len, s, n); b->len += n;
}

/* ---- UTF-8 ---- */

static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k; uint32_t cp, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += k + 1;
    }
    return 1;
}

/* ---- the procedures ---- */

/* Arguments: a cursor over the request's bytes after PROC. */
struct args { const unsigned char *p; size_t left; int bad; };

static int64_t take64(struct args *a) {
    if (a->left < 8) { a->bad = 1; return 0; }
    int64_t v = (int64_t)get64(a->p);
    a->p += 8; a->left -= 8;
    return v;
}
static uint32_t take32(struct args *a) {
    if (a->left < 4) { a->bad = 1; return 0; }
    uint32_t v = get32(a->p);
    a->p += 4; a->left -= 4;
    return v;
}
static const unsigned char *takestr(struct args *a, size_t *n) {
    uint32_t count = take32(a);
    if (a->bad || count > a->left) { a->bad = 1; return NULL; }
    const unsigned char *s = a->p;
    a->p += count; a->left -= count;
    if (!valid_utf8(s, count)) { a->bad = 1; return NULL; }
    *n = count;
    return s;
}

static void fail_reply(struct buf *r, uint8_t status, const char *message) {
    r->len = 8; /* keep LEN and ID */
    add8(r, status);
    addstr(r, (const unsigned char *)message, strlen(message));
}

/* Fills the reply `r` (LEN and ID already there) for PROC. */
static void call(uint16_t proc, struct args *a, struct buf *r) {
    switch (proc) {
    case 1: { /* add */
        int64_t x = take64(a), y = take64(a), s;
        if (a->bad || a->left) return fail_reply(r, 2, "bad arguments");
        if (__builtin_add_overflow(x, y, &s)) return fail_reply(r, 3, "overflow");
        add8(r, 0); add64(r, (uint64_t)s);
        return;
    }
    case 2: { /* upper */
        size_t n = 0;
        const unsigned char *s = takestr(a, &n);
        if (a->bad || a->left) return fail_reply(r, 2, "bad arguments");
        add8(r, 0);
        add32(r, (uint32_t)n);
        grow(r, n);
        for (size_t i = 0; i < n; i++) r->data[r->len + i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
        r->len += n;
        return;
    }
    case 3: { /* sum */
        uint32_t count = take32(a);
        if (a->bad || (uint64_t)count * 8 != a->left) return fail_reply(r, 2, "bad arguments");
        __int128 total = 0;
        for (uint32_t i = 0; i < count; i++) total += take64(a);
        if (total > INT64_MAX || total < INT64_MIN) return fail_reply(r, 3, "overflow");
        add8(r, 0); add64(r, (uint64_t)(int64_t)total);
        return;
    }
    case 4: { /* div */
        int64_t x = take64(a), y = take64(a);
        if (a->bad || a->left) return fail_reply(r, 2, "bad arguments");
        if (y == 0) return fail_reply(r, 3, "division by zero");
        if (x == INT64_MIN && y == -1) return fail_reply(r, 3, "overflow");
        add8(r, 0); add64(r, (uint64_t)(x / y)); add64(r, (uint64_t)(x % y));
        return;
    }
    case 5: { /* sleep */
        uint32_t ms = take32(a);
        if (a->bad || a->left || ms > 10000) return fail_reply(r, 2, "bad arguments");
        struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
        while (nanosleep(&t, &t) == -1 && errno == EINTR) {}
        add8(r, 0);
        return;
    }
    case 6: { /* stat */
        size_t n = 0;
        const unsigned char *s = takestr(a, &n);
        if (a->bad || a->left) return fail_reply(r, 2, "bad arguments");
        char *path = strndup((const char *)s, n);
        struct stat st;
        int rc = stat(path, &st);
        int err = errno;
        free(path);
        if (rc == -1) return fail_reply(r, 3, strerror(err));
        add8(r, 0); add64(r, (uint64_t)st.st_size); add32(r, (uint32_t)st.st_mode);
        return;
    }
    default:
        return fail_reply(r, 1, "unknown procedure");
    }
}

/* ---- connections ---- */

/* Reads exactly n bytes; returns how many came before end of file or an error. */
static size_t read_full(int fd, unsigned char *p, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k > 0) got += (size_t)k;
        else if (k == -1 && errno == EINTR) continue;
        else break;
    }
    return got;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k == -1 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k; n -= (size_t)k;
    }
    return 0;
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    unsigned char head[4];
    struct buf reply = { 0 };
    for (;;) {
        if (read_full(fd, head, 4) != 4) break; /* closed, or cut inside LEN */
        uint32_t len = get32(head);
        if (len < 6 || len > MAX_LEN) break; /* not read: close */
        unsigned char *req = malloc(len);
        if (!req || read_full(fd, req, len) != len) { free(req); break; }
        uint32_t id = get32(req);
        uint16_t proc = (uint16_t)(req[4] << 8 | req[5]);
        struct args a = { req + 6, len - 6, 0 };
        reply.len = 0;
        grow(&reply, 8);
        reply.len = 8;
        put32(reply.data + 4, id);
        call(proc, &a, &reply);
        put32(reply.data, (uint32_t)(reply.len - 4));
        free(req);
        if (write_all(fd, reply.data, reply.len) == -1) break;
    }
    free(reply.data);
    close(fd);
    return NULL;
}

static void *on_signal(void *arg) {
    sigset_t *set = arg;
    int sig;
    if (sigwait(set, &sig) == 0) {
        if (socket_file) unlink(socket_file);
        _exit(0);
    }
    return NULL;
}

static void accept_forever(int lfd) {
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd == -1) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            die("accept", errno);
        }
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) != 0) { close(fd); continue; }
        pthread_detach(t);
    }
}

static int listen_tcp(const char *host, const char *port) {
    struct addrinfo hints = { 0 }, *res, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "rpc-server: %s: %s\n", host, gai_strerror(rc));
        exit(1);
    }
    int fd = -1, err = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) { err = errno; continue; }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1) die("bind", err);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) die("getsockname", errno);
    char ip[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        printf("listening on [%s]:%u\n", ip, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        printf("listening on %s:%u\n", ip, ntohs(a->sin_port));
    }
    fflush(stdout);
    return fd;
}

static int listen_unix(const char *path) {
    struct sockaddr_un sa = { 0 };
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) die(path, ENAMETOOLONG);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) die("socket", errno);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
        int err = errno;
        if (err != EADDRINUSE) die(path, err);
        struct stat st;
        if (lstat(path, &st) == -1) die(path, errno);
        if (!S_ISSOCK(st.st_mode)) die(path, EEXIST);
        /* A socket: does anyone listen on it? */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int live = connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        int why = errno;
        close(probe);
        if (live || why != ECONNREFUSED) die(path, EADDRINUSE);
        if (unlink(path) == -1) die(path, errno);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) die(path, errno);
    }
    if (listen(fd, 128) == -1) die(path, errno);
    socket_file = path;
    printf("listening on %s\n", path);
    fflush(stdout);
    return fd;
}

static int is_port(const char *s) {
    if (!*s || strlen(s) > 5) return 0;
    for (const char *p = s; *p; p++) if (*p < '0' || *p > '9') return 0;
    return atol(s) <= 65535;
}

int main(int argc, char **argv) {
    const char *unix_path = NULL, *host = NULL, *port = NULL;
    int options = 1;
    for (int i = 1; i < argc; i++) {
        if (options && strcmp(argv[i], "--") == 0) { options = 0; continue; }
        if (options && strcmp(argv[i], "--unix") == 0) {
            if (++i >= argc || unix_path) return usage();
            unix_path = argv[i];
        } else if (options && strcmp(argv[i], "--host") == 0) {
            if (++i >= argc || host) return usage();
            host = argv[i];
        } else if (options && argv[i][0] == '-' && argv[i][1]) {
            return usage();
        } else {
            if (port) return usage();
            port = argv[i];
        }
    }
    if (unix_path ? (host || port) : (!port || !is_port(port))) return usage();

    signal(SIGPIPE, SIG_IGN);
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t waiter;
    if (pthread_create(&waiter, NULL, on_signal, &set) != 0) die("pthread_create", errno);

    int lfd = unix_path ? listen_unix(unix_path) : listen_tcp(host ? host : "127.0.0.1", port);
    accept_forever(lfd);
    return 0;
}
