/* The C baseline of `cargo bench-ipc` for tcp-client: `tcp-client HOST PORT`
   connects to the first address of HOST that works, copies stdin to the
   connection in a child process (then shuts down its writing side) while
   the parent copies the connection to stdout, both in pieces of up to
   64 KiB, and exits 0 once the server has closed and the child is done.
   Written from the contract alone. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[64 * 1024];

static int copy(int from, int to) {
    ssize_t n;
    while ((n = read(from, buf, sizeof buf)) > 0)
        for (ssize_t done = 0, w; done < n; done += w)
            if ((w = write(to, buf + done, n - done)) < 0)
                return -1;
    return n < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    char *end = "";
    long port = argc == 3 ? strtol(argv[2], &end, 10) : -1;
    if (argc != 3 || *end || port < 0 || port > 65535) {
        fputs("usage: tcp-client HOST PORT\n", stderr);
        return 2;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *addrs, *a;
    int err = getaddrinfo(argv[1], argv[2], &hints, &addrs), conn = -1;
    if (err) {
        fprintf(stderr, "tcp-client: %s:%s: %s\n", argv[1], argv[2], gai_strerror(err));
        return 1;
    }
    for (a = addrs; a && conn < 0; a = a->ai_next) {
        conn = socket(a->ai_family, a->ai_socktype, 0);
        if (conn < 0) {
            err = errno;
        } else if (connect(conn, a->ai_addr, a->ai_addrlen) != 0) {
            err = errno;
            close(conn);
            conn = -1;
        }
    }
    if (conn < 0) {
        fprintf(stderr, "tcp-client: %s:%s: %s\n", argv[1], argv[2], strerror(err));
        return 1;
    }
    pid_t child = fork();
    if (child == 0) /* the child calls only read, write, shutdown and _exit */
        _exit(copy(0, conn) == 0 && shutdown(conn, SHUT_WR) == 0 ? 0 : 1);
    int ok = copy(conn, 1) == 0, status;
    waitpid(child, &status, 0);
    return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
