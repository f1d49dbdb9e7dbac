/* The naive sig-counter of issue 23, in C: printf in the handlers, exit
 * from the SIGTERM handler, no sigprocmask, and a pause() loop. It counts
 * right nearly always; what is wrong is the wait (a signal handled between
 * the loop's test and pause() is slept through) and the handlers' unsafe
 * calls. grader/tests/independent_signals.rs shows the waiting check
 * catches it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, rt;

static void on_signal(int sig) {
    if (sig == SIGUSR1) usr1++;
    else if (sig == SIGUSR2) usr2++;
    else if (sig == SIGRTMIN) rt++;
    else {
        printf("usr1=%d usr2=%d rt=%d\n", (int)usr1, (int)usr2, (int)rt);
        if (sig != SIGHUP) {
            puts("bye");
            exit(0);
        }
        fflush(stdout);
    }
}

int main(void) {
    int sigs[] = {SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGTERM, SIGRTMIN};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigaction(sigs[i], &sa, NULL);
    }
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    for (;;) pause();
}
