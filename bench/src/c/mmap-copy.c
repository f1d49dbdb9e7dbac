/* The C baseline of `cargo bench-ipc` for mmap-copy: `mmap-copy SRC DST`
   opens SRC, creates or truncates DST (mode 0644, less the umask), sizes it
   to SRC's size with ftruncate, maps SRC read-only and DST read-write (both
   MAP_SHARED), copies with one memcpy, calls msync(MS_SYNC), unmaps and
   exits 0, printing nothing. An empty SRC gives an empty DST and maps
   nothing. Written from the contract alone; no options. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *context) {
    fprintf(stderr, "mmap-copy: %s: %s\n", context, strerror(errno));
    exit(1);
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--")) /* `--` only ends the (absent) options */
        argv++, argc--;
    if (argc != 3) {
        fputs("usage: mmap-copy SRC DST\n", stderr);
        return 2;
    }
    const char *src_path = argv[1], *dst_path = argv[2];
    struct stat st;
    int src = open(src_path, O_RDONLY);
    if (src < 0 || fstat(src, &st))
        fail(src_path);
    int dst = open(dst_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (dst < 0 || ftruncate(dst, st.st_size))
        fail(dst_path);
    size_t size = st.st_size;
    if (size > 0) {
        void *from = mmap(NULL, size, PROT_READ, MAP_SHARED, src, 0);
        if (from == MAP_FAILED)
            fail(src_path);
        void *to = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dst, 0);
        if (to == MAP_FAILED)
            fail(dst_path);
        memcpy(to, from, size);
        if (msync(to, size, MS_SYNC))
            fail(dst_path);
        munmap(from, size);
        munmap(to, size);
    }
    if (close(dst))
        fail(dst_path);
    close(src);
    return 0;
}
