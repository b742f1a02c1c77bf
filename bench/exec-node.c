// What bin/lvsd's launcher costs by itself: a static program that only execs its arguments.
// The IPVS bench times `exec-node node -e 0` against `node -e 0`.
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  execv(argv[1], argv + 1);
  fprintf(stderr, "exec-node: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
