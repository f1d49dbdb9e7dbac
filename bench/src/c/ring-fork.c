/* The C baseline of `cargo bench-ipc` for ring-fork:
   `ring-fork [--capacity BYTES]` makes the ring (256 + BYTES bytes, default
   65536, header as in the contract, magic last) in one anonymous shared
   mapping before fork. The child copies the ring to stdout straight from
   the data area (release store of `tail` after each write); the parent reads
   stdin straight into the free space, stores `closed = 1` at end of file
   (ring.h), waits for the child and exits 0 if the child exited 0, else 1.
   A parent waiting on a full ring also notices a child that died. Written
   from the contract alone. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ring.h"

static pid_t child;
static int child_status, reaped;

/* Whether the child (the consumer) has ended: then nobody drains the ring. */
static int child_gone(void) {
    reaped = waitpid(child, &child_status, WNOHANG) == child;
    return reaped;
}

int main(int argc, char **argv) {
    uint64_t capacity = 65536;
    if (!command_line(argc, argv, "--capacity", &capacity, NULL) || capacity == 0 || capacity > INT64_MAX - 256) {
        fputs("usage: ring-fork [--capacity BYTES]\n", stderr);
        return 2;
    }

    struct header *ring = mmap(NULL, 256 + capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ring == MAP_FAILED) {
        fprintf(stderr, "ring-fork: mmap: %s\n", strerror(errno));
        return 1;
    }
    atomic_store_explicit(&ring->capacity, capacity, memory_order_relaxed);
    atomic_store_explicit(&ring->magic, MAGIC, memory_order_release);
    child = fork();
    if (child < 0) {
        fprintf(stderr, "ring-fork: fork: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        if (consume(ring, capacity)) { /* single-threaded parent: stdio is safe here */
            fprintf(stderr, "ring-fork: stdout: %s\n", strerror(errno));
            _exit(1);
        }
        _exit(0);
    }

    int failed = produce(ring, capacity, child_gone) != 0;
    if (failed && !reaped)
        fprintf(stderr, "ring-fork: stdin: %s\n", strerror(errno));
    while (!reaped && waitpid(child, &child_status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "ring-fork: waitpid: %s\n", strerror(errno));
            return 1;
        }
    return failed || !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0;
}
