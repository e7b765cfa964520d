/*
 * The floor of a hot install, in C: the system calls silo's default install cannot avoid (a mkdir per
 * folder, a link per file from the store, the verifier's statx of each store file, a symlink per
 * symlink), replayed from a list on several threads, with no runtime, lockfile or index around them.
 * bench/install.ts builds the list from silo's finished tree and times this program beside the peers.
 *
 * Usage: link_floor THREADS STORE_FILES_DIR LIST DEST_DIR
 * LIST lines (tab-separated, parents before children, paths relative to DEST_DIR):
 *   D <dir>    F <store path> <file>    S <symlink text> <link>
 * Lines are dealt to the threads in chunks, so a parent may not exist yet: it is made then (EEXIST from
 * two threads making one folder is fine).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CHUNK = 64 };

static char **lines;
static size_t count;
static int threads, store_fd, dest_fd;

static void fail(const char *call, const char *path) {
  fprintf(stderr, "link_floor: %s %s: %s\n", call, path, strerror(errno));
  exit(1);
}

/* Make `rel` (writable: its slashes are cut and restored), parents first when missing. */
static void make_dir(char *rel) {
  if (mkdirat(dest_fd, rel, 0755) == 0 || errno == EEXIST) return;
  char *slash = strrchr(rel, '/');
  if (errno != ENOENT || !slash) fail("mkdirat", rel);
  *slash = 0;
  make_dir(rel);
  *slash = '/';
  if (mkdirat(dest_fd, rel, 0755) != 0 && errno != EEXIST) fail("mkdirat", rel);
}

/* Run `call` on `rel`; when its folder is missing (made by a later chunk), make it and retry once. */
static void in_dir(char *rel, int (*call)(const char *, char *), const char *name, const char *arg) {
  if (call(arg, rel) == 0) return;
  char *slash = strrchr(rel, '/');
  if (errno != ENOENT || !slash) fail(name, rel);
  *slash = 0;
  make_dir(rel);
  *slash = '/';
  if (call(arg, rel) != 0) fail(name, rel);
}

static int do_link(const char *src, char *dst) { return linkat(store_fd, src, dest_fd, dst, 0); }
static int do_symlink(const char *text, char *at) { return symlinkat(text, dest_fd, at); }

static void run_line(char *line) {
  char *a = line + 2, *b = strchr(a, '\t');
  if (b) *b++ = 0;
  if (line[0] == 'D') {
    make_dir(a);
  } else if (line[0] == 'F') {
    struct statx st;
    if (statx(store_fd, a, AT_SYMLINK_NOFOLLOW, STATX_SIZE | STATX_MTIME, &st) != 0) fail("statx", a);
    in_dir(b, do_link, "linkat", a);
  } else if (line[0] == 'S') {
    in_dir(b, do_symlink, "symlinkat", a);
  }
}

static void *worker(void *arg) {
  long t = (long)arg;
  for (size_t start = (size_t)t * CHUNK; start < count; start += (size_t)threads * CHUNK) {
    for (size_t i = start; i < start + CHUNK && i < count; i++) run_line(lines[i]);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: link_floor THREADS STORE_FILES_DIR LIST DEST_DIR\n");
    return 2;
  }
  threads = atoi(argv[1]);
  if (threads < 1 || threads > 64) threads = 1;
  FILE *list = fopen(argv[3], "r");
  if (!list) fail("open", argv[3]);
  size_t cap = 1024;
  lines = malloc(cap * sizeof *lines);
  char *line = NULL;
  size_t len = 0;
  ssize_t n;
  while ((n = getline(&line, &len, list)) > 0) {
    if (line[n - 1] == '\n') line[n - 1] = 0;
    if (count == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
    lines[count++] = strdup(line);
  }
  fclose(list);
  if (mkdir(argv[4], 0755) != 0 && errno != EEXIST) fail("mkdir", argv[4]);
  store_fd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (store_fd < 0) fail("open", argv[2]);
  dest_fd = open(argv[4], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dest_fd < 0) fail("open", argv[4]);
  pthread_t ids[64];
  for (long t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, (void *)t);
  for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  return 0;
}
