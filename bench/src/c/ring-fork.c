/* The C baseline of `cargo bench-ipc` for ring-fork:
   `ring-fork [--capacity BYTES]` makes the ring (256 + BYTES bytes, default
   65536, header as in the contract, magic last) in one anonymous shared
   mapping before fork. The child copies the ring to stdout straight from
   the data area (release store of `tail` after each write); the parent reads
   stdin straight into the free space (release store of `head` after each
   read), stores `closed = 1` at end of file, waits for the child and exits
   0 if the child exited 0, else 1. Waiting: 256 spins, then 20 us sleeps
   between checks; a parent waiting on a full ring also notices a child that
   died. Written from the contract alone, with C11 atomics. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x31474E4952435049ULL

struct header { /* the contract's layout: one field per 64-byte line */
    _Atomic uint64_t magic, capacity, pad0[6];
    _Atomic uint64_t head, pad1[7];
    _Atomic uint64_t tail, pad2[7];
    _Atomic uint64_t closed, pad3[7];
};
_Static_assert(sizeof(struct header) == 256, "header is 256 bytes");

static int number(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno)
        return 0;
    *out = n;
    return 1;
}

/* Called each time there is nothing to do: spin a little, then sleep. */
static void pause_for(unsigned *spins) {
    if (++*spins > 256)
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
}

/* The child: the ring to stdout, until it is closed and drained. */
static int consume(struct header *ring, uint64_t capacity) {
    const char *data = (const char *)ring + 256;
    uint64_t tail = 0;
    unsigned spins = 0;
    for (;;) {
        uint64_t closed = atomic_load_explicit(&ring->closed, memory_order_acquire);
        uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
        if (head == tail) {
            if (closed == 1)
                return 0;
            pause_for(&spins);
            continue;
        }
        spins = 0;
        uint64_t at = tail % capacity, want = head - tail;
        ssize_t n = write(1, data + at, want < capacity - at ? want : capacity - at);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n > 0) {
            tail += n;
            atomic_store_explicit(&ring->tail, tail, memory_order_release);
        }
    }
}

int main(int argc, char **argv) {
    uint64_t capacity = 65536;
    int bad = 0, options = 1;
    for (int i = 1; i < argc; i++) {
        if (options && !strcmp(argv[i], "--"))
            options = 0;
        else if (options && !strcmp(argv[i], "--capacity") && i + 1 < argc)
            bad |= !number(argv[++i], &capacity) || capacity == 0 || capacity > INT64_MAX - 256;
        else
            bad = 1; /* no operands */
    }
    if (bad) {
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
    pid_t child = fork();
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

    char *data = (char *)ring + 256;
    uint64_t head = 0;
    unsigned spins = 0;
    int status = 0, reaped = 0;
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        uint64_t space = capacity - (head - tail), at = head % capacity;
        if (space == 0) {
            if (spins >= 256 && waitpid(child, &status, WNOHANG) == child) {
                reaped = 1; /* the consumer is gone: nobody will drain the ring */
                break;
            }
            pause_for(&spins);
            continue;
        }
        spins = 0;
        ssize_t n = read(0, data + at, space < capacity - at ? space : capacity - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "ring-fork: stdin: %s\n", strerror(errno));
            status = -1;
        }
        if (n <= 0)
            break;
        head += n;
        atomic_store_explicit(&ring->head, head, memory_order_release);
    }
    atomic_store_explicit(&ring->closed, 1, memory_order_release);
    int failed = status != 0;
    while (!reaped && waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "ring-fork: waitpid: %s\n", strerror(errno));
            return 1;
        }
    return failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
