// The `lvsd` program (bin/lvsd links to the dist/lvsd that scripts/build-launcher.js compiles from
// this file, statically linked). It starts node from the CLI's start-up snapshot, dist/lvsd.blob,
// when that snapshot fits; otherwise node runs the compiled JavaScript (bin/lvsd.js).
//
// Why C and not a shell script: a command such as `lvsd ipvs list --timeout` should cost little
// more than node's own start. Under the lab's emulation, /bin/sh alone costs 60-130 ms before
// node starts (a dynamic executable: the loader's relocations), a static one ~15 ms.
//
// The snapshot fits when dist/lvsd.blob.node (written by scripts/build-snapshot.js right after the
// blob) describes what is here now: the node that built it, by path and by file identity (inode,
// size, modification and change times: a node replaced in place, even by a package whose files
// carry older times, is another file); the blob itself (size and modification time: written to
// since, it may be damaged); this CPU's flags line (V8 refuses a snapshot made on a CPU with other
// features); and the V8 flags the blob was built with, which node must be given again. The blob
// must also be newer than the last compile (dist/.tsbuildinfo), and NODE_OPTIONS unset (it may
// carry V8 flags, and V8 refuses a snapshot started with flags other than its own).
//
// Even then V8 may refuse the blob, for a cause these checks do not see (damage that kept the
// file's times, ...): node then stops before the CLI's first line, with exit status 14 or a
// crash. So node runs from the snapshot as a child, told a pipe (LVSD_STARTED_FD) to which the
// snapshot's main function writes one byte before anything else. If node stopped without writing
// it, nothing of lvsd ran and the JavaScript runs instead. Once the byte came, the child's end is
// this program's end: no second run, whatever happens.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// The node that built lvsd (scripts/build-launcher.js passes its absolute path): the JavaScript
// runs with it, so a start does not depend on the PATH (sudo's, systemd's) finding an nvm node.
#ifndef LVSD_NODE
#define LVSD_NODE "node"
#endif

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

static unsigned long long ns(struct timespec t) {
  return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

/** A node's identity as build-snapshot.js writes it: inode, size, mtime and ctime in ns. */
static void node_identity(const struct stat *st, char *out, size_t size) {
  snprintf(out, size, "%llu %lld %llu %llu", (unsigned long long)st->st_ino, (long long)st->st_size, ns(st->st_mtim), ns(st->st_ctim));
}

/** The blob's identity as build-snapshot.js writes it: size and mtime in ns. */
static void blob_identity(const struct stat *st, char *out, size_t size) {
  snprintf(out, size, "%lld %llu", (long long)st->st_size, ns(st->st_mtim));
}

/**
 * Fills node with the node that built the blob and v8_flags with the flags it was built with, if
 * the blob may be started with that node here.
 */
static int snapshot_fits(const char *blob, const char *tsbuildinfo, char *node, size_t size, char *v8_flags, size_t flags_size) {
  static char built_cpu[8192], cpu[8192];
  char meta[PATH_MAX + 64], built_node_id[128], built_blob_id[128], id[128];
  struct stat blob_st, node_st, compiled_st;
  const char *node_options = getenv("NODE_OPTIONS");
  if (node_options && *node_options) return 0;
  if (stat(blob, &blob_st) != 0 || !S_ISREG(blob_st.st_mode)) return 0;
  snprintf(meta, sizeof meta, "%s.node", blob);
  FILE *f = fopen(meta, "r");
  if (!f) return 0;
  int ok = read_line(f, node, size) && read_line(f, built_node_id, sizeof built_node_id) && read_line(f, built_blob_id, sizeof built_blob_id) &&
           read_line(f, built_cpu, sizeof built_cpu) && read_line(f, v8_flags, flags_size);
  fclose(f);
  if (!ok || node[0] != '/' || access(node, X_OK) != 0 || stat(node, &node_st) != 0) return 0;
  node_identity(&node_st, id, sizeof id);
  if (strcmp(id, built_node_id) != 0) return 0;
  blob_identity(&blob_st, id, sizeof id);
  if (strcmp(id, built_blob_id) != 0) return 0;
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

/** Runs bin/lvsd.js with the node that built lvsd, or with node from the PATH if that one is gone. */
static int run_javascript(const char *script, int argc, char **argv) {
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) {
    fprintf(stderr, "lvsd: out of memory\n");
    return 127;
  }
  int i = 0;
  args[i++] = LVSD_NODE[0] == '/' && access(LVSD_NODE, X_OK) == 0 ? LVSD_NODE : "node";
  args[i++] = (char *)script;
  for (int a = 1; a < argc; a++) args[i++] = argv[a];
  args[i] = NULL;
  execvp(args[0], args);
  fprintf(stderr, "lvsd: cannot start %s: %s\n", args[0], strerror(errno));
  return 127;
}

static pid_t child;

/** Passes on a signal that a process sent to this one (one from the terminal reached node too). */
static void forward(int sig, siginfo_t *info, void *context) {
  (void)context;
  if (info->si_code <= 0 && child > 0) kill(child, sig);
}

static const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

/** Ends this program as node ended: the same exit status, or the same signal. */
static int end_as(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int sig = WTERMSIG(status);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core); // node left its core, if any; not a second one of this program
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  return 128 + sig;
}

/** Whether node stopped on its own (not by a signal someone sent to stop it) and with a failure. */
static int failed_by_itself(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status) != 0;
  int sig = WTERMSIG(status);
  return sig != SIGHUP && sig != SIGINT && sig != SIGQUIT && sig != SIGTERM && sig != SIGKILL && sig != SIGPIPE;
}

/** Starts node on the snapshot as a child; returns 1 with *status once it ended, 0 if it never started the CLI. */
static int run_snapshot(char **args, int *status) {
  int started[2];
  if (pipe2(started, O_CLOEXEC) != 0) return 0;
  pid_t parent = getpid();
  child = fork();
  if (child < 0) {
    close(started[0]);
    close(started[1]);
    return 0;
  }
  if (child == 0) {
    // node goes when this program goes (e.g. SIGKILL), as it would had this program exec'd it
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(128 + SIGKILL);
    char fd[16];
    snprintf(fd, sizeof fd, "%d", started[1]);
    if (fcntl(started[1], F_SETFD, 0) != 0 || setenv("LVSD_STARTED_FD", fd, 1) != 0) _exit(127);
    execv(args[0], args);
    _exit(127);
  }
  close(started[1]);
  struct sigaction forwarding = {0};
  forwarding.sa_sigaction = forward;
  forwarding.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&forwarding.sa_mask);
  for (size_t s = 0; s < sizeof FORWARDED / sizeof FORWARDED[0]; s++) sigaction(FORWARDED[s], &forwarding, NULL);
  char byte;
  ssize_t n;
  do n = read(started[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  close(started[0]);
  while (waitpid(child, status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "lvsd: waiting for node: %s\n", strerror(errno));
      *status = 127 << 8;
      return 1;
    }
  }
  struct sigaction plain = {0};
  plain.sa_handler = SIG_DFL;
  for (size_t s = 0; s < sizeof FORWARDED / sizeof FORWARDED[0]; s++) sigaction(FORWARDED[s], &plain, NULL);
  return n == 1 || !failed_by_itself(*status);
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

  // room for root (PATH_MAX at most) and what follows it: no path is ever cut short
  char blob[PATH_MAX + 32], tsbuildinfo[PATH_MAX + 32], script[PATH_MAX + 32], node[PATH_MAX];
  static char v8_flags[1024];
  enum { MOST_FLAGS = 16 };
  snprintf(blob, sizeof blob, "%s/dist/lvsd.blob", root);
  snprintf(tsbuildinfo, sizeof tsbuildinfo, "%s/dist/.tsbuildinfo", root);
  snprintf(script, sizeof script, "%s/bin/lvsd.js", root);

  char *flag[MOST_FLAGS];
  int flags = 0;
  if (!snapshot_fits(blob, tsbuildinfo, node, sizeof node, v8_flags, sizeof v8_flags) || !split_flags(v8_flags, flag, MOST_FLAGS, &flags)) {
    return run_javascript(script, argc, argv);
  }
  char **args = calloc((size_t)argc + 4 + MOST_FLAGS, sizeof *args);
  if (!args) {
    fprintf(stderr, "lvsd: out of memory\n");
    return 127;
  }
  int i = 0;
  args[i++] = node;
  for (int f = 0; f < flags; f++) args[i++] = flag[f];
  args[i++] = "--snapshot-blob";
  args[i++] = blob;
  args[i++] = "--";
  for (int a = 1; a < argc; a++) args[i++] = argv[a];
  args[i] = NULL;
  int status;
  if (run_snapshot(args, &status)) return end_as(status);
  if (child > 0) {
    char how[64];
    if (WIFEXITED(status)) snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    else snprintf(how, sizeof how, "signal %d", WTERMSIG(status));
    fprintf(stderr, "lvsd: node stopped (%s) before the CLI started from %s; running the JavaScript instead\n", how, blob);
  }
  return run_javascript(script, argc, argv);
}
