#!/usr/bin/env node
// Makes dist/lvsd, the program bin/lvsd links to (`npm run build` runs this after build-native.js):
// native/launcher/lvsd.c compiled with the system's C compiler, which starts the CLI from its
// start-up snapshot when that fits (see lvsd.c); or, where no launcher can be compiled (no C
// compiler, no C library headers), a shell script that runs the CLI as plain JavaScript. Either
// way bin/lvsd works after a build, and either runs the JavaScript with the node that ran this
// script (its absolute path is written in), falling back to node from the PATH if that one is gone.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LAUNCHER = path.join(ROOT, 'dist', 'lvsd');
const SOURCE = path.join(ROOT, 'native', 'launcher', 'lvsd.c');
const CC = process.env.CC || 'cc';
const NODE = process.execPath;

// The paths go into a C string literal and a shell word: only plain characters
for (const [what, file] of [['node', NODE], ['the repository', ROOT]]) {
  if (!/^\/[\x20-\x7e]*$/.test(file) || /["\\'$`]/.test(file)) {
    console.error(`build-launcher: the path of ${what}, ${JSON.stringify(file)}, holds characters this script does not quote; move it elsewhere`);
    process.exit(1);
  }
}

/** Compiles the launcher into file; the compiler's complaint if it could not. */
function compile(file, extra) {
  const args = ['-std=c11', '-O2', '-Wall', '-Wextra', ...extra, `-DLVSD_NODE="${NODE}"`, '-o', file, SOURCE];
  const r = spawnSync(CC, args, { encoding: 'utf8' });
  if (r.error) return `${CC}: ${r.error.code === 'ENOENT' ? 'not found' : r.error.message}`;
  if (r.status !== 0) return r.stderr.trim().split('\n')[0] || `${CC} exited with status ${r.status}`;
  if (r.stderr.trim()) process.stderr.write(r.stderr);
  return undefined;
}

fs.mkdirSync(path.dirname(LAUNCHER), { recursive: true });
const tmp = `${LAUNCHER}.tmp`;
fs.rmSync(tmp, { force: true });
// Linked statically where the C library allows it: under the lab's emulation a dynamic executable
// spends ~50 ms in the loader before main (see native/launcher/lvsd.c).
let problem = compile(tmp, ['-static']);
if (problem !== undefined) {
  const dynamic = compile(tmp, []);
  if (dynamic === undefined) console.error('build-launcher: no static C library; dist/lvsd is linked dynamically');
  problem = dynamic;
}
if (problem !== undefined) {
  console.error(`build-launcher: no launcher (${problem}); bin/lvsd runs the CLI as plain JavaScript, without the start-up snapshot`);
  fs.writeFileSync(
    tmp,
    `#!/bin/sh
# Written by scripts/build-launcher.js where native/launcher/lvsd.c could not be compiled: runs the
# CLI as plain JavaScript, with the node that built lvsd if it is still there; from the tree this
# file is in (or, without readlink, the one it was written in).
node='${NODE}'
[ -x "$node" ] || node=node
here=$(readlink -f "$0" 2>/dev/null) || here='${LAUNCHER}'
exec "$node" "\${here%/*}/../bin/lvsd.js" "$@"
`,
  );
}
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, LAUNCHER); // a running lvsd keeps its file; no half-written program is ever started
