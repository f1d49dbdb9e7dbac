/* The C baseline of `cargo bench-ipc` for ring-producer:
   `ring-producer [--capacity BYTES] NAME` creates the shared-memory object
   NAME (O_CREAT|O_EXCL, mode 0600) of 256 + BYTES bytes (default 65536),
   writes the ring's header (magic last, with release ordering), copies its
   stdin into the ring and stores `closed = 1` (ring.h). It never unlinks
   NAME once the magic is set. Written from the contract alone. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>

#include "ring.h"

int main(int argc, char **argv) {
    uint64_t capacity = 65536;
    const char *name = NULL;
    if (!command_line(argc, argv, "--capacity", &capacity, &name) || capacity == 0 || capacity > INT64_MAX - 256) {
        fputs("usage: ring-producer [--capacity BYTES] NAME\n", stderr);
        return 2;
    }

    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        fprintf(stderr, "ring-producer: %s: %s\n", name, strerror(errno));
        return 1;
    }
    struct header *ring = MAP_FAILED;
    if (ftruncate(fd, 256 + capacity) == 0)
        ring = mmap(NULL, 256 + capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED) { /* no consumer can have used it yet: remove it */
        fprintf(stderr, "ring-producer: %s: %s\n", name, strerror(errno));
        shm_unlink(name);
        return 1;
    }
    close(fd);
    atomic_store_explicit(&ring->capacity, capacity, memory_order_relaxed);
    atomic_store_explicit(&ring->magic, MAGIC, memory_order_release);

    if (produce(ring, capacity, NULL) < 0) { /* the stream is ended anyway, so the consumer finishes */
        fprintf(stderr, "ring-producer: stdin: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
