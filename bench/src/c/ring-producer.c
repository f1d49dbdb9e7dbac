/* The C baseline of `cargo bench-ipc` for ring-producer:
   `ring-producer [--capacity BYTES] NAME` creates the shared-memory object
   NAME (O_CREAT|O_EXCL, mode 0600) of 256 + BYTES bytes (default 65536),
   writes the ring's header (magic last, with release ordering), then reads
   its stdin straight into the ring's free space (at most up to the wrap
   point per read), publishing each piece with a release store of `head`,
   and finally stores `closed = 1`. It never unlinks NAME once the magic is
   set. Waiting on a full ring: 256 spins, then 20 us sleeps between checks.
   Written from the contract alone, with C11 atomics. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int valid_name(const char *s) {
    size_t len = strlen(s);
    return s[0] == '/' && len >= 2 && len <= 255 && !strchr(s + 1, '/');
}

/* Called each time the ring is found full: spin a little, then sleep. */
static void pause_for(unsigned *spins) {
    if (++*spins > 256)
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
}

int main(int argc, char **argv) {
    uint64_t capacity = 65536;
    const char *name = NULL;
    int bad = 0, options = 1;
    for (int i = 1; i < argc; i++) {
        if (options && !strcmp(argv[i], "--"))
            options = 0;
        else if (options && !strcmp(argv[i], "--capacity") && i + 1 < argc)
            bad |= !number(argv[++i], &capacity) || capacity == 0 || capacity > INT64_MAX - 256;
        else if ((options && argv[i][0] == '-') || name)
            bad = 1;
        else
            name = argv[i];
    }
    if (bad || !name || !valid_name(name)) {
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
    char *data = (char *)ring + 256;
    atomic_store_explicit(&ring->capacity, capacity, memory_order_relaxed);
    atomic_store_explicit(&ring->magic, MAGIC, memory_order_release);

    uint64_t head = 0;
    unsigned spins = 0;
    int status = 0;
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        uint64_t space = capacity - (head - tail), at = head % capacity;
        if (space == 0) {
            pause_for(&spins);
            continue;
        }
        spins = 0;
        size_t want = space < capacity - at ? space : capacity - at;
        ssize_t n = read(0, data + at, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) { /* end the stream anyway, so the consumer finishes */
            fprintf(stderr, "ring-producer: stdin: %s\n", strerror(errno));
            status = 1;
        }
        if (n <= 0)
            break;
        head += n;
        atomic_store_explicit(&ring->head, head, memory_order_release);
    }
    atomic_store_explicit(&ring->closed, 1, memory_order_release);
    return status;
}
