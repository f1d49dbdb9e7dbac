/* The naive sig-reaper of issue 23, in C: the SIGCHLD handler reaps (and
 * prints), main waits with `while (reaped < n) pause();` and SIGCHLD
 * unblocked. If the last SIGCHLD comes between the test and pause(), it
 * sleeps forever. grader/tests/independent_signals.rs shows the waiting
 * check catches it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t reaped;

static void on_sigchld(int sig) {
    (void)sig;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        printf("reaped %d status %d\n", (int)pid, WEXITSTATUS(status));
        fflush(stdout);
        reaped++;
    }
}

int main(int argc, char **argv) {
    int n = argc == 2 ? atoi(argv[1]) : 0;
    if (n < 1 || n > 1000) {
        fputs("usage: sig-reaper N\n", stderr);
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    for (int i = 0; i < n; i++) {
        if (fork() == 0) {
            struct timespec nap = {0, (long)((i * 7) % 50) * 1000000L};
            nanosleep(&nap, NULL);
            _exit(i % 256);
        }
    }
    while (reaped < n) pause();
    printf("reaped %d children\n", n);
    return 0;
}
