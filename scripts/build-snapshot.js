#!/usr/bin/env node
// Builds dist/lvsd.blob, a V8 start-up snapshot of the compiled CLI, so that `bin/lvsd` starts
// with its modules already loaded instead of resolving, reading and compiling ~40 files.
//
// Node 20's snapshot builder can only require built-in modules, so this first packs the CLI's
// module graph (dist/src/**, commander, the netlink package's raw socket and its loader) into
// one script with a small module table of its own. Modules of other packages (mariadb, pino,
// yaml, ...) stay outside and are required at run time from the repository, as usual.
// The modules listed in WARM are evaluated while the snapshot is built; everything else in the
// table is evaluated on first use. A warm module must not read the environment, the clock or the
// file system at load time: that state would be frozen into the snapshot.
//
//   node scripts/build-snapshot.js        (npm run build runs it after tsc)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const ENTRY = 'dist/src/cli/main.js';
const BUNDLED_PACKAGES = new Set(['commander', 'netlink', 'node-gyp-build']);
const WARM = [
  'dist/src/cli/main.js',
  'dist/src/cli/ipvs.js',
  'dist/src/ipvs/client.js',
  'dist/src/ipvs/command.js',
  'dist/src/ipvs/restore.js',
  'dist/src/ipvs/format/table.js',
  'dist/src/ipvs/format/timeouts.js',
  'dist/src/ipvs/format/names.js',
  'dist/src/ipvs/format/json.js',
  'dist/src/ipvs/format/save.js',
];
const BLOB = path.join(DIST, 'lvsd.blob');
const BUILT_BY = path.join(DIST, 'lvsd.blob.node');
const REQUIRE_CALL = /\brequire\((['"])([^'"]+)\1\)/g;
const builtins = new Set(builtinModules);

function isBuiltin(spec) {
  return spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]);
}

function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Walks require() calls from the entry; returns modules (id -> file) and each one's resolved requires. */
function collect() {
  const modules = new Map();
  const links = new Map();
  const queue = [path.join(ROOT, ENTRY)];
  while (queue.length > 0) {
    const file = queue.pop();
    const id = path.relative(ROOT, file);
    if (modules.has(id)) continue;
    modules.set(id, file);
    const map = {};
    links.set(id, map);
    if (file.endsWith('.json')) continue;
    const source = fs.readFileSync(file, 'utf8');
    for (const m of source.matchAll(REQUIRE_CALL)) {
      const spec = m[2];
      if (isBuiltin(spec) || spec in map) continue;
      const bare = !spec.startsWith('.') && !spec.startsWith('/');
      if (bare && !BUNDLED_PACKAGES.has(packageOf(spec))) continue; // run-time require
      let target;
      try {
        target = require.resolve(spec, { paths: [path.dirname(file)] });
      } catch {
        continue; // optional requires inside packages; left to run time
      }
      if (target.endsWith('.node')) continue;
      map[spec] = path.relative(ROOT, target);
      queue.push(target);
    }
  }
  return { modules, links };
}

function pack({ modules, links }) {
  const out = [];
  out.push(`'use strict';
const path = require('node:path');
const v8 = require('node:v8');
const BUILTINS = new Set(${JSON.stringify(builtinModules)});
const isBuiltin = (spec) => spec.startsWith('node:') || BUILTINS.has(spec);
let root = ${JSON.stringify(ROOT)};
const LINKS = ${JSON.stringify(Object.fromEntries(links))};
const FACTORIES = Object.create(null);
const cache = Object.create(null);
let outside = null;
function outsideRequire(spec) {
  if (v8.startupSnapshot.isBuildingSnapshot()) throw new Error('build-snapshot: a warm module requires ' + spec + ' at load time');
  if (!outside) outside = require('node:module').createRequire(path.join(root, 'package.json'));
  return outside(spec);
}
function load(id) {
  const cached = cache[id];
  if (cached) return cached.exports;
  const filename = path.join(root, id);
  const module = { id: filename, filename, exports: {}, loaded: false, paths: [] };
  cache[id] = module;
  const links = LINKS[id];
  const req = (spec) => {
    const target = links[spec];
    if (target !== undefined) return load(target);
    if (isBuiltin(spec)) return require(spec);
    return outsideRequire(spec.startsWith('.') ? path.resolve(path.dirname(filename), spec) : spec);
  };
  req.resolve = (spec) => require('node:module').createRequire(filename).resolve(spec);
  FACTORIES[id](module.exports, req, module, filename, path.dirname(filename));
  module.loaded = true;
  return module.exports;
}
`);
  for (const [id, file] of modules) {
    const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '').replace(/\/\/# sourceMappingURL=.*$/m, '');
    const body = file.endsWith('.json') ? `module.exports = ${source.trim()};` : source;
    out.push(`FACTORIES[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${body}\n};\n`);
  }
  out.push(`
for (const id of ${JSON.stringify(WARM)}) load(id);
v8.startupSnapshot.setDeserializeMainFunction(() => {
  // The blob sits in <root>/dist: find the repository from where this run loaded it.
  const args = process.execArgv;
  let blob;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--snapshot-blob') blob = args[i + 1];
    else if (args[i].startsWith('--snapshot-blob=')) blob = args[i].slice('--snapshot-blob='.length);
  }
  if (blob) root = path.resolve(path.dirname(blob), '..');
  // A snapshot run has no script in argv; give the CLI the shape it expects.
  const argv = [process.argv[0], path.join(root, 'bin', 'lvsd'), ...process.argv.slice(1)];
  load(${JSON.stringify(ENTRY)}).main(argv);
});
`);
  return out.join('\n');
}

function main() {
  const graph = collect();
  for (const id of WARM) if (!graph.modules.has(id)) throw new Error(`build-snapshot: ${id} is not reachable from ${ENTRY}`);
  const script = path.join(DIST, 'lvsd.snapshot.js');
  fs.writeFileSync(script, pack(graph));
  fs.rmSync(BLOB, { force: true });
  fs.rmSync(BUILT_BY, { force: true });
  // --no-warnings: node warns that commander's require('node:child_process') is "not yet fully
  // verified" in snapshots; commander only uses it for executable subcommands, which lvsd has none of.
  execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', BLOB, '--build-snapshot', script], { stdio: 'inherit', cwd: ROOT });
  // bin/lvsd starts the blob only with the node that built it (a snapshot is tied to one build of node)
  fs.writeFileSync(BUILT_BY, `${process.execPath}\n`);
  console.log(`build-snapshot: ${graph.modules.size} modules, ${WARM.length} warm, ${(fs.statSync(BLOB).size / 1048576).toFixed(1)} MiB -> dist/lvsd.blob`);
}

main();
