/* The C baseline of `cargo bench-ipc` for tcp-server: `tcp-server PORT`, an
   echo server on 127.0.0.1 (PORT 0: the system chooses) that prints
   `listening on 127.0.0.1:PORT` and serves each connection in a child
   process, copying what it reads back in pieces of up to 64 KiB. SIGPIPE is
   ignored, so a vanished client ends only its own child. Written from the
   contract alone; no --host, which the benchmark does not use. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[64 * 1024];

static void say(const char *what, struct sockaddr_in *peer) {
    printf("%s %s:%d\n", what, inet_ntoa(peer->sin_addr), ntohs(peer->sin_port));
    fflush(stdout);
}

int main(int argc, char **argv) {
    char *end = "";
    long port = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *end || port < 0 || port > 65535) {
        fputs("usage: tcp-server PORT\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* the kernel reaps the children: no zombies */
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 128) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("tcp-server: bind");
        return 1;
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        int conn = accept(listener, (struct sockaddr *)&peer, &peer_len);
        if (conn < 0)
            continue;
        say("connection from", &peer);
        if (fork() == 0) {
            close(listener);
            ssize_t n;
            while ((n = read(conn, buf, sizeof buf)) > 0)
                for (ssize_t done = 0, w; done < n; done += w)
                    if ((w = write(conn, buf + done, n - done)) < 0)
                        _exit(1);
            close(conn);
            say("connection closed", &peer);
            _exit(0);
        }
        close(conn);
    }
}
