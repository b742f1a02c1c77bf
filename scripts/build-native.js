#!/usr/bin/env node
// Compiles native/*.c into dist/native/*.node (Node-API modules) with the system's C compiler
// and the headers of the node that runs this script, and native/launcher/lvsd.c into dist/lvsd,
// the program bin/lvsd links to; `npm run build` runs it after tsc.
// No node-gyp: one C file each, no dependencies, and node-gyp would fetch headers over the
// network. Fails loudly: a build without the dump transport would pass tests but list slowly.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
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

// The launcher is linked statically where the C library allows it: under the lab's emulation a
// dynamic executable spends ~50 ms in the loader before main (see native/launcher/lvsd.c).
const launcher = path.join(ROOT, 'dist', 'lvsd');
const launcherArgs = ['-std=c11', '-O2', '-Wall', '-Wextra', '-o', launcher, path.join(ROOT, 'native', 'launcher', 'lvsd.c')];
try {
  execFileSync(process.env.CC || 'cc', ['-static', ...launcherArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch {
  console.error('build-native: no static C library; dist/lvsd is linked dynamically');
  execFileSync(process.env.CC || 'cc', launcherArgs, { stdio: 'inherit' });
}
