/* The C baseline of `cargo bench-ipc` for mq-send: `mq-send NAME MESSAGE...`
   sends each MESSAGE, its bytes without the terminator, as one message of
   priority 0 on queue NAME (created with mode 0600, 10 messages of 1024
   bytes, if missing). Written from the contract alone; no options, which the
   benchmark does not use. Anything else is a usage error, status 2. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *name = argc > 2 ? argv[1] : "";
    if (argc < 3 || name[0] != '/' || name[1] == '\0' || strchr(name + 1, '/') || strlen(name) > 255) {
        fputs("usage: mq-send NAME MESSAGE...\n", stderr);
        return 2;
    }
    struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = 1024 };
    mqd_t queue = mq_open(name, O_WRONLY | O_CREAT, 0600, &attr);
    if (queue == (mqd_t)-1) {
        fprintf(stderr, "mq-send: %s: %s\n", name, strerror(errno));
        return 1;
    }
    for (int i = 2; i < argc; i++)
        if (mq_send(queue, argv[i], strlen(argv[i]), 0) == -1) {
            fprintf(stderr, "mq-send: %s: %s\n", name, errno == EMSGSIZE ? "message too long" : strerror(errno));
            return 1;
        }
    return 0;
}
