/*
 * rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]
 *
 * An implementation of lab `rpc`'s client written from the contract alone
 * (shared/CONTRACT.md), in plain C with libc, to show that the grader checks
 * the contract and not the reference's quirks.
 * Build: cc -O2 -o rpc-client rpc-client.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: rpc-client [--timeout MS] [--repeat N] (--unix PATH | HOST PORT) PROC [ARG...]\n"

static const char *proc_name;

static int usage(void) {
    fputs(USAGE, stderr);
    return 2;
}

/* `rpc-client: PROC: WHAT`, then exit with `status`. */
static void fail(int status, const char *what) {
    fprintf(stderr, "rpc-client: %s: %s\n", proc_name, what);
    exit(status);
}

/* ---- numbers ---- */

static int parse_i64(const char *s, int64_t *out) {
    if (!*s) return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE || s[0] == ' ' || s[0] == '+') return 0;
    *out = v;
    return 1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
    if (!*s || strlen(s) > 20) return 0;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        if (v > (max - (uint64_t)(*p - '0')) / 10) return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 1;
}

static int is_negative_number(const char *s) {
    return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

/* ---- the wire ---- */

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (56 - 8 * i)); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

struct buf { unsigned char *data; size_t len, cap; };

static void grow(struct buf *b, size_t more) {
    if (b->len + more > b->cap) {
        b->cap = (b->len + more) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) { perror("rpc-client: realloc"); exit(1); }
    }
}
static void add32(struct buf *b, uint32_t v) { grow(b, 4); put32(b->data + b->len, v); b->len += 4; }
static void add64(struct buf *b, uint64_t v) { grow(b, 8); put64(b->data + b->len, v); b->len += 8; }
static void addbytes(struct buf *b, const void *p, size_t n) { grow(b, n); memcpy(b->data + b->len, p, n); b->len += n; }

/* ---- I/O with a deadline ---- */

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` before `deadline`; 0 on time-out. */
static int wait_ready(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = { fd, events, 0 };
        int rc = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (rc > 0) return 1;
        if (rc == -1 && errno != EINTR) return 1; /* let the read or write report it */
    }
}

static void send_all(int fd, const unsigned char *p, size_t n, int64_t deadline) {
    while (n > 0) {
        if (!wait_ready(fd, POLLOUT, deadline)) fail(4, "timed out");
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k == -1 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k == -1 && (errno == EPIPE || errno == ECONNRESET)) fail(1, "connection closed");
        if (k <= 0) fail(1, strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* Reads exactly n bytes before the deadline, or reports why not. */
static void recv_all(int fd, unsigned char *p, size_t n, int64_t deadline) {
    while (n > 0) {
        if (!wait_ready(fd, POLLIN, deadline)) fail(4, "timed out");
        ssize_t k = read(fd, p, n);
        if (k == -1 && (errno == EINTR || errno == EAGAIN)) continue;
        if (k == 0 || (k == -1 && errno == ECONNRESET)) fail(1, "connection closed");
        if (k < 0) fail(1, strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* ---- connecting ---- */

static int connect_tcp(const char *host, const char *port) {
    struct addrinfo hints = { 0 }, *res, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "rpc-client: %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(1);
    }
    int fd = -1, err = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd == -1) { err = errno; continue; }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1) {
        fprintf(stderr, "rpc-client: %s:%s: %s\n", host, port, strerror(err));
        exit(1);
    }
    return fd;
}

static int connect_unix(const char *path) {
    struct sockaddr_un sa = { 0 };
    sa.sun_family = AF_UNIX;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int err = ENAMETOOLONG;
    if (fd != -1 && strlen(path) < sizeof sa.sun_path) {
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) return fd;
        err = errno;
    } else if (fd == -1) {
        err = errno;
    }
    fprintf(stderr, "rpc-client: %s: %s\n", path, strerror(err));
    exit(1);
}

/* ---- main ---- */

int main(int argc, char **argv) {
    uint64_t timeout = 5000, repeat = 1;
    const char *unix_path = NULL;
    const char **words = calloc((size_t)argc + 1, sizeof *words);
    int nwords = 0, options = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) { options = 0; continue; }
        if (options && strcmp(a, "--timeout") == 0) {
            if (++i >= argc || !parse_u64(argv[i], UINT32_MAX, &timeout) || timeout == 0) return usage();
        } else if (options && strcmp(a, "--repeat") == 0) {
            if (++i >= argc || !parse_u64(argv[i], UINT32_MAX, &repeat) || repeat == 0) return usage();
        } else if (options && strcmp(a, "--unix") == 0) {
            if (++i >= argc) return usage();
            unix_path = argv[i];
        } else if (options && a[0] == '-' && a[1] && !is_negative_number(a)) {
            return usage();
        } else {
            words[nwords++] = a;
        }
    }
    int w = unix_path ? 0 : 2;
    if (nwords < w + 1) return usage();
    uint64_t port_number;
    if (!unix_path && !parse_u64(words[1], 65535, &port_number)) return usage();
    proc_name = words[w];
    const char **args = words + w + 1;
    int nargs = nwords - w - 1;

    /* The request's arguments, marshalled once. */
    struct buf req_args = { 0 };
    int proc;
    if (strcmp(proc_name, "add") == 0 || strcmp(proc_name, "div") == 0) {
        proc = proc_name[0] == 'a' ? 1 : 4;
        int64_t x, y;
        if (nargs != 2 || !parse_i64(args[0], &x) || !parse_i64(args[1], &y)) return usage();
        add64(&req_args, (uint64_t)x);
        add64(&req_args, (uint64_t)y);
    } else if (strcmp(proc_name, "upper") == 0 || strcmp(proc_name, "stat") == 0) {
        proc = proc_name[0] == 'u' ? 2 : 6;
        if (nargs != 1) return usage();
        add32(&req_args, (uint32_t)strlen(args[0]));
        addbytes(&req_args, args[0], strlen(args[0]));
    } else if (strcmp(proc_name, "sum") == 0) {
        proc = 3;
        add32(&req_args, (uint32_t)nargs);
        for (int i = 0; i < nargs; i++) {
            int64_t x;
            if (!parse_i64(args[i], &x)) return usage();
            add64(&req_args, (uint64_t)x);
        }
    } else if (strcmp(proc_name, "sleep") == 0) {
        proc = 5;
        uint64_t ms;
        if (nargs != 1 || !parse_u64(args[0], UINT32_MAX, &ms)) return usage();
        add32(&req_args, (uint32_t)ms);
    } else {
        return usage();
    }

    signal(SIGPIPE, SIG_IGN);
    int fd = unix_path ? connect_unix(unix_path) : connect_tcp(words[0], words[1]);

    struct buf req = { 0 };
    unsigned char *reply = NULL;
    uint32_t reply_len = 0;
    for (uint64_t n = 1; n <= repeat; n++) {
        uint32_t id = (uint32_t)(n * 2654435761u);
        req.len = 0;
        add32(&req, (uint32_t)(6 + req_args.len));
        add32(&req, id);
        unsigned char p[2] = { (unsigned char)(proc >> 8), (unsigned char)proc };
        addbytes(&req, p, 2);
        addbytes(&req, req_args.data, req_args.len);
        int64_t deadline = now_ms() + (int64_t)timeout;
        send_all(fd, req.data, req.len, deadline);
        unsigned char head[4];
        recv_all(fd, head, 4, deadline);
        reply_len = get32(head);
        if (reply_len < 5 || reply_len > (64u << 20)) fail(1, "bad reply");
        free(reply);
        reply = malloc(reply_len);
        if (!reply) fail(1, strerror(errno));
        recv_all(fd, reply, reply_len, deadline);
        if (get32(reply) != id) fail(1, "bad reply");
        uint8_t status = reply[4];
        if (status != 0) {
            if (reply_len < 9 || get32(reply + 5) != reply_len - 9) fail(1, "bad reply");
            fprintf(stderr, "rpc-client: %s: ", proc_name);
            fwrite(reply + 9, 1, reply_len - 9, stderr);
            fputc('\n', stderr);
            exit(3);
        }
    }
    close(fd);

    /* The last call's results, which must fill the reply exactly. */
    const unsigned char *r = reply + 5;
    size_t left = reply_len - 5;
    switch (proc) {
    case 1: case 3:
        if (left != 8) fail(1, "bad reply");
        printf("%" PRId64 "\n", (int64_t)get64(r));
        break;
    case 2:
        if (left < 4 || get32(r) != left - 4) fail(1, "bad reply");
        fwrite(r + 4, 1, left - 4, stdout);
        putchar('\n');
        break;
    case 4:
        if (left != 16) fail(1, "bad reply");
        printf("%" PRId64 " %" PRId64 "\n", (int64_t)get64(r), (int64_t)get64(r + 8));
        break;
    case 5:
        if (left != 0) fail(1, "bad reply");
        puts("ok");
        break;
    case 6:
        if (left != 12) fail(1, "bad reply");
        printf("%" PRIu64 " %o\n", get64(r), (unsigned)get32(r + 8));
        break;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
