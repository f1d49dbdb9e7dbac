/* sig-reaper N: lab `signals` written in C from the contract alone
 * (../shared/CONTRACT.md). Plain C and libc; built by
 * grader/tests/independent_signals.rs with `cc`.
 *
 * It waits another way than the reference (which sleeps in sigsuspend):
 * SIGCHLD stays blocked, and main takes it with sigwaitinfo after it has
 * reaped every ended child, so a SIGCHLD that comes meanwhile stays
 * pending and ends the next wait at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_sigchld(int sig) {
    (void)sig; /* never runs: SIGCHLD is blocked and taken by sigwaitinfo */
}

static int fail(const char *context) {
    fprintf(stderr, "sig-reaper: %s: %s\n", context, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    char *end = NULL;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || end == argv[1] || *end != '\0' || n < 1 || n > 1000) {
        fputs("usage: sig-reaper N\n", stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0) return fail("sigprocmask");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    if (sigaction(SIGCHLD, &sa, NULL) != 0) return fail("sigaction");
    long forked = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) return fail("fork");
        if (pid == 0) {
            struct timespec nap = {0, (long)((i * 7) % 50) * 1000000L};
            nanosleep(&nap, NULL);
            _exit((int)(i % 256));
        }
        forked++;
    }
    long reaped = 0;
    for (;;) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            int s = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            printf("reaped %d status %d\n", (int)pid, s);
            reaped++;
        }
        if (reaped == forked || (pid < 0 && errno == ECHILD)) break;
        if (sigwaitinfo(&chld, NULL) < 0 && errno != EINTR) return fail("sigwaitinfo");
    }
    printf("reaped %ld children\n", reaped);
    return 0;
}
