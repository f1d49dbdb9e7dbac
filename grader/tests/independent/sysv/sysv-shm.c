/* sysv-shm [--remove] KEYFILE [TEXT], written from shared/CONTRACT.md
 * (lab `sysv`) alone, in plain C: a second implementation the grader must
 * give full marks, so that its checks test the contract and not the Rust
 * reference's habits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>

#define SIZE 1024

static int usage(void) {
    fputs("usage: sysv-shm [--remove] KEYFILE [TEXT]\n", stderr);
    return 2;
}

static int error(const char *context, int err) {
    fprintf(stderr, "sysv-shm: %s: %s\n", context, strerror(err));
    return 1;
}

int main(int argc, char **argv) {
    int remove = 0, npos = 0, options = 1;
    const char *pos[2] = {0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options && strcmp(a, "--") == 0) {
            options = 0;
        } else if (options && strcmp(a, "--remove") == 0) {
            remove = 1;
        } else if (options && a[0] == '-' && a[1] != '\0') {
            return usage();
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return usage();
        }
    }
    if (npos < 1)
        return usage();
    const char *keyfile = pos[0], *text = pos[1];
    size_t len = text ? strlen(text) : 0;
    if (text && len > SIZE - 1) {
        fputs("sysv-shm: text too long\n", stderr);
        return 1;
    }

    key_t key = ftok(keyfile, 'R');
    if (key == (key_t)-1)
        return error(keyfile, errno);
    int id = shmget(key, SIZE, IPC_CREAT | 0644);
    if (id == -1)
        return error(keyfile, errno);
    char *data = shmat(id, NULL, 0);
    if (data == (char *)-1)
        return error("shmat", errno);

    if (text) {
        printf("writing to segment: \"%s\"\n", text);
        memcpy(data, text, len + 1);
    } else {
        size_t n = 0;
        while (n < SIZE && data[n] != '\0')
            n++;
        fputs("segment contains: \"", stdout);
        fwrite(data, 1, n, stdout);
        fputs("\"\n", stdout);
    }
    if (fflush(stdout) != 0)
        return error("stdout", errno);
    if (shmdt(data) == -1)
        return error("shmdt", errno);
    if (remove) {
        if (shmctl(id, IPC_RMID, NULL) == -1)
            return error(keyfile, errno);
        puts("segment removed");
        if (fflush(stdout) != 0)
            return error("stdout", errno);
    }
    return 0;
}
