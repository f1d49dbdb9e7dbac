/* sig-counter: lab `signals` written in C from the contract alone
 * (../shared/CONTRACT.md). Plain C and libc; built by
 * grader/tests/independent_signals.rs with `cc`.
 *
 * It waits another way than the reference (which sleeps in sigsuspend):
 * the signals stay blocked all the time and are read from a signalfd, so
 * no handler ever runs and none can be lost between a look and a sleep. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static unsigned long long usr1, usr2, rt;

static int fail(const char *context) {
    fprintf(stderr, "sig-counter: %s: %s\n", context, strerror(errno));
    return 1;
}

static void report(void) {
    printf("usr1=%llu usr2=%llu rt=%llu\n", usr1, usr2, rt);
    fflush(stdout);
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fputs("usage: sig-counter\n", stderr);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    int wanted[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGTERM, SIGRTMIN};
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) sigaddset(&set, wanted[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return fail("sigprocmask");
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0) return fail("signalfd");
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    for (;;) {
        struct signalfd_siginfo info[64];
        ssize_t n = read(fd, info, sizeof info);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("read");
        }
        for (size_t i = 0; i < (size_t)n / sizeof info[0]; i++) {
            int sig = (int)info[i].ssi_signo;
            if (sig == SIGUSR1) {
                usr1++;
            } else if (sig == SIGUSR2) {
                usr2++;
            } else if (sig == SIGRTMIN) {
                rt++;
            } else if (sig == SIGHUP) {
                report();
            } else if (sig == SIGINT || sig == SIGTERM) {
                report();
                puts("bye");
                fflush(stdout);
                return 0;
            }
        }
    }
}
