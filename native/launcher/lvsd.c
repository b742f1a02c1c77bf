// The `lvsd` program (bin/lvsd links to the dist/lvsd that scripts/build-native.js compiles from
// this file, statically linked). It starts node from the CLI's start-up snapshot, dist/lvsd.blob,
// when that snapshot fits; otherwise node runs the compiled JavaScript (bin/lvsd.js).
//
// Why C and not a shell script: a command such as `lvsd ipvs list --timeout` should cost little
// more than node's own start. Under the lab's emulation, /bin/sh alone costs 60-130 ms before
// node starts (a dynamic executable: the loader's relocations), a static one ~15 ms.
//
// The snapshot fits when dist/lvsd.blob.node (written by scripts/build-snapshot.js) names a node
// that is still there and a CPU flags line equal to this CPU's, and the blob is newer than that
// node and than the last compile (dist/.tsbuildinfo): V8 refuses a snapshot made by another node
// or on a CPU with other features, and a blob older than the compile holds old code. The file's
// third line holds the V8 flags the blob was built with; node must start with the same ones.
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_line(FILE *f, char *line, size_t size) {
  if (!fgets(line, (int)size, f)) return 0;
  size_t n = strlen(line);
  if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
  else if (!feof(f)) return 0; // longer than the buffer: not a line we wrote
  return 1;
}

/** The first "flags" line of /proc/cpuinfo, as build-snapshot.js records it. */
static int cpu_flags(char *line, size_t size) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return 0;
  int found = 0;
  while (!found && read_line(f, line, size)) found = strncmp(line, "flags", 5) == 0;
  fclose(f);
  return found;
}

static int newer(const struct stat *a, const struct stat *b) {
  if (a->st_mtim.tv_sec != b->st_mtim.tv_sec) return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
  return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/**
 * Fills node with the node that built the blob and v8_flags with the flags it was built with, if
 * the blob may be started with that node here.
 */
static int snapshot_fits(const char *blob, const char *tsbuildinfo, char *node, size_t size, char *v8_flags, size_t flags_size) {
  static char built_cpu[8192], cpu[8192];
  char meta[PATH_MAX + 8];
  struct stat blob_st, node_st, compiled_st;
  if (stat(blob, &blob_st) != 0 || !S_ISREG(blob_st.st_mode)) return 0;
  snprintf(meta, sizeof meta, "%s.node", blob);
  FILE *f = fopen(meta, "r");
  if (!f) return 0;
  int ok = read_line(f, node, size) && read_line(f, built_cpu, sizeof built_cpu) && read_line(f, v8_flags, flags_size);
  fclose(f);
  if (!ok || access(node, X_OK) != 0 || stat(node, &node_st) != 0 || !newer(&blob_st, &node_st)) return 0;
  if (stat(tsbuildinfo, &compiled_st) != 0 || !newer(&blob_st, &compiled_st)) return 0;
  return cpu_flags(cpu, sizeof cpu) && strcmp(cpu, built_cpu) == 0;
}

/** Splits the flags line at spaces; 0 if it holds more than most flags (then not a line we wrote). */
static int split_flags(char *line, char **flag, int most, int *count) {
  *count = 0;
  for (char *f = strtok(line, " "); f; f = strtok(NULL, " ")) {
    if (*count == most) return 0;
    flag[(*count)++] = f;
  }
  return 1;
}

int main(int argc, char **argv) {
  // The repository is two levels above the real file (dist/lvsd), however lvsd was reached:
  // through bin/lvsd, `npm link` or a link in /usr/local/bin.
  char root[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", root, sizeof root - 1);
  if (n <= 0) {
    fprintf(stderr, "lvsd: cannot find its own file: /proc/self/exe: %s\n", strerror(errno));
    return 127;
  }
  root[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(root, '/');
    if (!slash) {
      fprintf(stderr, "lvsd: cannot find the repository above %s\n", root);
      return 127;
    }
    *slash = '\0';
  }

  char blob[PATH_MAX], tsbuildinfo[PATH_MAX], script[PATH_MAX], node[PATH_MAX];
  static char v8_flags[1024];
  enum { MOST_FLAGS = 16 };
  snprintf(blob, sizeof blob, "%s/dist/lvsd.blob", root);
  snprintf(tsbuildinfo, sizeof tsbuildinfo, "%s/dist/.tsbuildinfo", root);
  snprintf(script, sizeof script, "%s/bin/lvsd.js", root);

  char **args = calloc((size_t)argc + 4 + MOST_FLAGS, sizeof *args);
  if (!args) {
    fprintf(stderr, "lvsd: out of memory\n");
    return 127;
  }
  int i = 0;
  char *flag[MOST_FLAGS];
  int flags = 0;
  if (snapshot_fits(blob, tsbuildinfo, node, sizeof node, v8_flags, sizeof v8_flags) && split_flags(v8_flags, flag, MOST_FLAGS, &flags)) {
    args[i++] = node;
    for (int f = 0; f < flags; f++) args[i++] = flag[f];
    args[i++] = "--snapshot-blob";
    args[i++] = blob;
    args[i++] = "--";
  } else {
    args[i++] = "node";
    args[i++] = script;
  }
  for (int a = 1; a < argc; a++) args[i++] = argv[a];
  args[i] = NULL;
  execvp(args[0], args);
  fprintf(stderr, "lvsd: cannot start %s: %s\n", args[0], strerror(errno));
  return 127;
}
