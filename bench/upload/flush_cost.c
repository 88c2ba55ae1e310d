// What one durable point costs on this disk: writes N MiB to a new file,
// waits until the kernel has written it back, then times the fdatasync that
// follows (the device's cache flush and the journal commit). Repeats R
// times on the same growing file, as a chunked upload does.
//
//   cc -O2 -o /tmp/flush_cost bench/upload/flush_cost.c
//   /tmp/flush_cost DIR MIB [REPEATS]     # e.g. /tmp/flush_cost /tmp 64 16
//
// On the 2-core development VM the fdatasync took about 0.57 ms per MiB
// whatever N was (0.7 ms for 1 MiB, 37 ms for 64, 585 ms for 1024): a
// flush drains in proportion to what was written since the last one, so
// an upload made durable in chunks pays for every chunk (bench/upload's
// "dd in pieces" row).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s DIR MIB [REPEATS]\n", argv[0]);
    return 2;
  }
  const long mib = atol(argv[2]);
  const int repeats = argc > 3 ? atoi(argv[3]) : 8;
  if (mib < 1 || repeats < 1) {
    fprintf(stderr, "MIB and REPEATS must be at least 1\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/flush_cost.XXXXXX", argv[1]);
  int fd = mkstemp(path);
  if (fd < 0) {
    perror("mkstemp");
    return 1;
  }
  unlink(path);  // the file goes when the program ends
  char* buf = malloc(1 << 20);
  if (!buf) return 1;
  memset(buf, 0x5a, 1 << 20);
  double wait_ms = 0, flush_ms = 0;
  long long size = 0;
  for (int r = 0; r < repeats; ++r) {
    const long long from = size;
    for (long i = 0; i < mib; ++i) {
      if (write(fd, buf, 1 << 20) != 1 << 20) {
        perror("write");
        return 1;
      }
      size += 1 << 20;
      sync_file_range(fd, size - (1 << 20), 1 << 20, SYNC_FILE_RANGE_WRITE);
    }
    const double a = now_ms();
    sync_file_range(fd, from, size - from,
                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    const double b = now_ms();
    if (fdatasync(fd) != 0) {
      perror("fdatasync");
      return 1;
    }
    wait_ms += b - a;
    flush_ms += now_ms() - b;
  }
  printf("%ld MiB x %d: writeback wait %.1f ms, then fdatasync %.1f ms (%.2f ms per MiB)\n", mib, repeats,
         wait_ms / repeats, flush_ms / repeats, flush_ms / repeats / mib);
  free(buf);
  close(fd);
  return 0;
}
