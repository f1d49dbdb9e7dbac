/* fifo-client [--nonblock] PATH [LINE...]: lab `fifo` written in C from the
 * contract alone (../shared/CONTRACT.md). Plain C and libc; built by
 * grader/tests/independent_fifo.rs with `cc`. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *path;

static void usage(void) {
    fputs("usage: fifo-client [--nonblock] PATH [LINE...]\n", stderr);
    exit(2);
}

static void fail(int status, const char *context, const char *reason) {
    fprintf(stderr, "fifo-client: %s: %s\n", context, reason);
    exit(status);
}

/* One write(2) of the line and its newline: at most PIPE_BUF bytes, so it
 * is atomic and, on a blocking pipe, never partial. */
static void send_line(int fd, const char *text, size_t len) {
    static char record[PIPE_BUF];
    if (len > PIPE_BUF - 1) {
        fputs("fifo-client: line too long\n", stderr);
        exit(1);
    }
    memcpy(record, text, len);
    record[len] = '\n';
    for (;;) {
        ssize_t n = write(fd, record, len + 1);
        if (n == (ssize_t)(len + 1)) return;
        if (n < 0 && errno == EINTR) continue;
        fail(1, path, n < 0 ? strerror(errno) : "short write");
    }
}

int main(int argc, char **argv) {
    int nonblock = 0, options_done = 0;
    char **lines = calloc((size_t)argc, sizeof *lines);
    int count = 0;
    for (int i = 1; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = 1;
        } else if (!options_done && strcmp(argv[i], "--nonblock") == 0) {
            nonblock = 1;
        } else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
        } else if (path == NULL) {
            path = argv[i];
        } else {
            lines[count++] = argv[i];
        }
    }
    if (path == NULL) usage();
    /* A reader that goes away must be an EPIPE to report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);

    struct stat st;
    if (stat(path, &st) < 0) fail(1, path, strerror(errno));
    if (!S_ISFIFO(st.st_mode)) fail(1, path, "not a FIFO");
    int fd = open(path, O_WRONLY | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
    if (fd < 0) {
        if (nonblock && errno == ENXIO) fail(3, path, "no reader");
        fail(1, path, strerror(errno));
    }
    if (nonblock) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) fail(1, path, strerror(errno));
    }

    if (count > 0) {
        for (int i = 0; i < count; i++) send_line(fd, lines[i], strlen(lines[i]));
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) > 0) {
            if (line[len - 1] == '\n') len--;
            send_line(fd, line, (size_t)len);
        }
        if (ferror(stdin)) fail(1, "stdin", strerror(errno));
    }
    return 0;
}
