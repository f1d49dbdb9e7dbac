/* The C baseline of `cargo bench-ipc` for ring-consumer:
   `ring-consumer [--wait MS] NAME` re-tries every millisecond, for at most
   MS ms (default 10000), until the shared-memory object NAME exists and its
   magic is set, checks the header, maps 256 + capacity bytes, then writes
   the stream to stdout straight from the ring (ring.h). Once `closed == 1`
   and `tail == head` it unlinks NAME and exits 0. Written from the contract
   alone. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ring.h"

static const char *name;

static void fail(const char *context, const char *reason) {
    fprintf(stderr, "ring-consumer: %s: %s\n", context, reason);
    exit(1);
}

/* The ready ring NAME, or NULL while it is missing or its magic unset. */
static struct header *try_open(void) {
    int fd = shm_open(name, O_RDWR, 0);
    if (fd < 0 && errno == ENOENT)
        return NULL;
    struct stat st;
    if (fd < 0 || fstat(fd, &st))
        fail(name, strerror(errno));
    struct header *ring = NULL;
    if (st.st_size >= 256) {
        ring = mmap(NULL, 256, PROT_READ, MAP_SHARED, fd, 0);
        if (ring == MAP_FAILED)
            fail(name, strerror(errno));
        uint64_t magic = atomic_load_explicit(&ring->magic, memory_order_acquire);
        uint64_t capacity = atomic_load_explicit(&ring->capacity, memory_order_relaxed);
        munmap(ring, 256);
        ring = NULL;
        if (magic != 0 && (magic != MAGIC || capacity == 0 || capacity > (uint64_t)st.st_size - 256))
            fail(name, "not a ring buffer");
        if (magic != 0 && (ring = mmap(NULL, 256 + capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
            fail(name, strerror(errno));
    } else if (st.st_size > 0) {
        fail(name, "not a ring buffer");
    }
    close(fd);
    return ring;
}

int main(int argc, char **argv) {
    uint64_t wait_ms = 10000;
    if (!command_line(argc, argv, "--wait", &wait_ms, &name)) {
        fputs("usage: ring-consumer [--wait MS] NAME\n", stderr);
        return 2;
    }

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double deadline = now.tv_sec + now.tv_nsec / 1e9 + wait_ms / 1e3;
    struct header *ring;
    while (!(ring = try_open())) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec + now.tv_nsec / 1e9 >= deadline)
            fail(name, "timed out waiting for producer");
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    }

    uint64_t capacity = atomic_load_explicit(&ring->capacity, memory_order_relaxed);
    if (consume(ring, capacity) < 0) { /* give up the stream: leave no object behind */
        const char *reason = strerror(errno);
        shm_unlink(name);
        fail("stdout", reason);
    }
    if (shm_unlink(name))
        fail(name, strerror(errno));
    return 0;
}
