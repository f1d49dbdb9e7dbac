/* fifo-server PATH: lab `fifo` written in C from the contract alone
 * (../shared/CONTRACT.md), to show that the grader checks the contract and
 * not the reference's ways. Plain C and libc; built by
 * grader/tests/independent_fifo.rs with `cc`.
 *
 * SIGINT and SIGTERM are blocked and read from a signalfd, polled together
 * with the FIFO. The FIFO's read end is opened with O_NONBLOCK; after end of
 * file a new read end is opened before the old one is closed, so that the
 * next poll sleeps instead of reporting POLLHUP for ever. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *path;
static unsigned long long lines;

static void usage(void) {
    fputs("usage: fifo-server PATH\n", stderr);
    exit(2);
}

static void die(const char *context, int err) {
    fprintf(stderr, "fifo-server: %s: %s\n", context, strerror(err));
    exit(1);
}

static void put(const char *bytes, size_t len) {
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, bytes, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("stdout", errno);
        }
        bytes += n;
        len -= (size_t)n;
    }
}

/* The bytes after the last newline seen so far. */
static char *pending;
static size_t pending_len, pending_cap;

static void keep(const char *bytes, size_t len) {
    if (pending_len + len + 1 > pending_cap) {
        pending_cap = (pending_len + len + 1) * 2;
        pending = realloc(pending, pending_cap);
        if (!pending) die("memory", ENOMEM);
    }
    memcpy(pending + pending_len, bytes, len);
    pending_len += len;
}

/* Prints the complete lines among the pending bytes. */
static void print_complete(void) {
    size_t end = pending_len;
    while (end > 0 && pending[end - 1] != '\n') end--;
    if (end == 0) return;
    put(pending, end);
    for (size_t i = 0; i < end; i++) lines += pending[i] == '\n';
    memmove(pending, pending + end, pending_len - end);
    pending_len -= end;
}

static int open_reader(void) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) die(path, errno);
    return fd;
}

int main(int argc, char **argv) {
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
        } else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
        } else if (path == NULL) {
            path = argv[i];
        } else {
            usage();
        }
    }
    if (path == NULL) usage();

    mode_t old = umask(0);
    if (mkfifo(path, 0600) < 0) die(path, errno);
    umask(old);

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stop, NULL) < 0) die("sigprocmask", errno);
    int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sfd < 0) die("signalfd", errno);

    int fd = open_reader();
    char line[4096];
    int n = snprintf(line, sizeof line, "listening on %s\n", path);
    put(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);

    static char buf[65536];
    for (;;) {
        struct pollfd fds[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll", errno);
        }
        if (fds[1].revents) {
            n = snprintf(line, sizeof line, "received %llu lines\n", lines);
            put(line, (size_t)n);
            if (unlink(path) < 0) die(path, errno);
            return 0;
        }
        if (!fds[0].revents) continue;
        ssize_t got = read(fd, buf, sizeof buf);
        if (got > 0) {
            keep(buf, (size_t)got);
            print_complete();
        } else if (got == 0) {
            if (pending_len > 0) {
                keep("\n", 1);
                print_complete();
            }
            int fresh = open_reader();
            close(fd);
            fd = fresh;
        } else if (errno != EAGAIN && errno != EINTR) {
            die(path, errno);
        }
    }
}
