/* What the C baselines of the ring share (ring-producer.c, ring-consumer.c,
   ring-fork.c): the contract's layout, reading the command line, and the
   two copy loops. Waiting, as the contract allows ("spinning briefly, then
   yielding or sleeping"): 256 re-checks, then a 20 us sleep between
   re-checks. Plain, not tuned. Written from the contract alone, with C11
   atomics. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
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

/* A decimal number that fits in a u64, digits only. */
static inline int number(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno)
        return 0;
    *out = n;
    return 1;
}

static inline int valid_name(const char *s) {
    size_t len = strlen(s);
    return s[0] == '/' && len >= 2 && len <= 255 && !strchr(s + 1, '/');
}

/* The command line `[OPTION N] [NAME]`, in any order, `--` ending the
   options: N into *value, the one NAME into *name (no operand at all when
   name is NULL). 0 on a usage error: an unknown option, a missing or bad
   N, a missing, extra or invalid NAME. */
static inline int command_line(int argc, char **argv, const char *option, uint64_t *value, const char **name) {
    int options = 1;
    for (int i = 1; i < argc; i++) {
        if (options && !strcmp(argv[i], "--"))
            options = 0;
        else if (options && !strcmp(argv[i], option) && i + 1 < argc) {
            if (!number(argv[++i], value))
                return 0;
        } else if (!name || (options && argv[i][0] == '-') || *name)
            return 0;
        else
            *name = argv[i];
    }
    return !name || (*name && valid_name(*name));
}

/* Called each time there is nothing to do: spin a little, then sleep. */
static inline void pause_for(unsigned *spins) {
    if (++*spins > 256)
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
}

/* Stdin into the ring, straight into its free space (at most up to the wrap
   point per read), each piece published with a release store of `head`;
   then `closed = 1`, whatever happened. `gone`, if not NULL, is asked after
   256 re-checks of a full ring whether the consumer has died. Returns 0 at
   end of file, -1 if a read failed (errno says why), 1 if the consumer is
   gone. */
static inline int produce(struct header *ring, uint64_t capacity, int (*gone)(void)) {
    char *data = (char *)ring + 256;
    uint64_t head = 0;
    unsigned spins = 0;
    int result = 0;
    for (;;) {
        uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        uint64_t space = capacity - (head - tail), at = head % capacity;
        if (space == 0) {
            if (gone && spins >= 256 && gone()) {
                result = 1;
                break;
            }
            pause_for(&spins);
            continue;
        }
        spins = 0;
        ssize_t n = read(0, data + at, space < capacity - at ? space : capacity - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            result = -1;
        if (n <= 0)
            break;
        head += n;
        atomic_store_explicit(&ring->head, head, memory_order_release);
    }
    int saved = errno;
    atomic_store_explicit(&ring->closed, 1, memory_order_release);
    errno = saved;
    return result;
}

/* The ring to stdout, straight from the data area (at most up to the wrap
   point per write; a partial write publishes what it wrote), progress
   published with a release store of `tail`, until `closed == 1` and the
   ring is empty. Returns 0 then, -1 if a write failed (errno says why). */
static inline int consume(struct header *ring, uint64_t capacity) {
    const char *data = (const char *)ring + 256;
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
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
            return -1;
        if (n > 0) {
            tail += n;
            atomic_store_explicit(&ring->tail, tail, memory_order_release);
        }
    }
}
