/* The C baseline of `cargo bench-ipc` for mq-recv: `mq-recv --count N NAME`
   receives N messages from the existing queue NAME, highest priority first,
   and prints each as `PRIORITY MESSAGE` on its own line, flushed at once
   (printf, then fflush). The buffer is sized from the queue's attributes.
   Written from the contract alone; only the options the benchmark uses.
   Anything else is a usage error, status 2. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char *end = "";
    long count = argc == 4 ? strtol(argv[2], &end, 10) : -1;
    const char *name = argc == 4 ? argv[3] : "";
    if (argc != 4 || strcmp(argv[1], "--count") || *end || count < 0 || name[0] != '/' || name[1] == '\0' ||
        strchr(name + 1, '/') || strlen(name) > 255) {
        fputs("usage: mq-recv --count N NAME\n", stderr);
        return 2;
    }
    struct mq_attr attr;
    mqd_t queue = mq_open(name, O_RDONLY);
    if (queue == (mqd_t)-1 || mq_getattr(queue, &attr) == -1) {
        fprintf(stderr, "mq-recv: %s: %s\n", name, strerror(errno));
        return 1;
    }
    char *buf = malloc(attr.mq_msgsize);
    for (long i = 0; i < count; i++) {
        unsigned priority;
        ssize_t len = mq_receive(queue, buf, attr.mq_msgsize, &priority);
        if (len < 0) {
            fprintf(stderr, "mq-recv: %s: %s\n", name, strerror(errno));
            return 1;
        }
        printf("%u %.*s\n", priority, (int)len, buf);
        if (fflush(stdout) == EOF) {
            fprintf(stderr, "mq-recv: stdout: %s\n", strerror(errno));
            return 1;
        }
    }
    return 0;
}
