// Where a command run as nobody finds lvsd: the checkout itself when nobody can read it, else a
// copy of what `lvsd` needs at run time where any user can read it. A checkout under a directory
// of mode 0700 (as `mktemp -d` makes) cannot be traversed by nobody, and node would fail with
// "Cannot find module". The copy is made once per process and removed at exit.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Repository root (this file runs as dist/test/support/runtime-copy.js). */
const REPO = resolve(__dirname, '../../..');

let chosen: string | undefined;
let copy: string | undefined;
process.on('exit', () => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

/**
 * A directory laid out like the repository that nobody (uid 65534) can read: the repository when
 * it can, else a copy (bin/, dist/ without the tests, package.json and the production packages of
 * node_modules) with every directory 0755 and every file readable by all.
 */
export function repoForNobody(): string {
  chosen ??= nobodyCanRead(REPO) ? REPO : makeCopy();
  return chosen;
}

/** Whether uid 65534 can read the files lvsd starts from (asked of the kernel, as that user). */
function nobodyCanRead(dir: string): boolean {
  const files = ['bin/lvsd.js', 'dist/src/cli/main.js', 'node_modules/pino/package.json'].map((f) => join(dir, f));
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'for f; do [ -r "$f" ] || exit 1; done', 'sh', ...files]);
  return r.status === 0;
}

function makeCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-runtime-'));
  copy = dir;
  // verbatim: bin/lvsd is a relative link into dist/, which must point into the copy
  const opts = { recursive: true, verbatimSymlinks: true, preserveTimestamps: true };
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'), opts);
  cpSync(join(REPO, 'bin'), join(dir, 'bin'), opts);
  // dist/ as built, with its build info (the launcher compares the snapshot's age with it)
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), {
    ...opts,
    filter: (src) => !['test', 'bench'].some((d) => src === join(REPO, 'dist', d)),
  });
  // the packages `npm ci --omit=dev` would install, as npm's own lock of node_modules lists them
  const lock = JSON.parse(readFileSync(join(REPO, 'node_modules/.package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.dev || !path.startsWith('node_modules/') || !existsSync(join(REPO, path))) continue;
    cpSync(join(REPO, path), join(dir, path), opts);
  }
  readableByAll(dir);
  return dir;
}

/** Directories 0755, files readable by all (and executable by all when their owner may run them). */
function readableByAll(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) readableByAll(path);
    else chmodSync(path, statSync(path).mode & 0o100 ? 0o755 : 0o644);
  }
}
