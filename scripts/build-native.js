#!/usr/bin/env node
// Compiles native/*.c into dist/native/*.node (Node-API modules) with the system's C compiler
// and the headers of the node that runs this script; `npm run build` runs it after tsc.
// (bin/lvsd's launcher: scripts/build-launcher.js.)
// No node-gyp: one C file each, no dependencies, and node-gyp would fetch headers over the
// network. Fails loudly: a build without the dump transport would pass tests but list slowly.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
// Without any C compiler the CLI still runs, on the JavaScript paths (src/native.ts): say so, do not fail.
if (spawnSync(process.env.CC || 'cc', ['--version'], { stdio: 'ignore' }).error?.code === 'ENOENT') {
  console.error(`build-native: no C compiler (${process.env.CC || 'cc'}): dist/native is not built; the JavaScript paths run, and VRRP is unavailable`);
  process.exit(0);
}
const OUT = path.join(ROOT, 'dist', 'native');
const include = path.join(path.dirname(process.execPath), '..', 'include', 'node');
if (!fs.existsSync(path.join(include, 'node_api.h'))) {
  console.error(`build-native: ${include}/node_api.h not found (node installed without its headers)`);
  process.exit(1);
}
fs.mkdirSync(OUT, { recursive: true });
for (const file of fs.readdirSync(path.join(ROOT, 'native')).filter((f) => f.endsWith('.c'))) {
  const out = path.join(OUT, file.replace(/\.c$/, '.node'));
  const args = ['-std=c11', '-D_DEFAULT_SOURCE', '-O2', '-Wall', '-Wextra', '-fPIC', '-shared', '-fvisibility=hidden',
    '-I', include, '-o', out, path.join(ROOT, 'native', file)];
  execFileSync(process.env.CC || 'cc', args, { stdio: 'inherit' });
}
