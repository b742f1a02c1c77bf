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
//   node scripts/build-snapshot.js [OUT]   (npm run build runs it after tsc; OUT: dist/lvsd.blob)
//   LVSD_SNAPSHOT_WARM_UP=0: without src/cli/warm-up.ts's exercise (to measure what it gives)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { builtinModules } = require('node:module');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const ENTRY = 'dist/src/cli/main.js';
const WARM_UP = 'dist/src/cli/warm-up.js'; // exercised at build time: see src/cli/warm-up.ts
const BUNDLED_PACKAGES = new Set(['commander', 'netlink', 'node-gyp-build']);
const DEFERRED_BUILTINS = ['node:child_process']; // see DEFERRED in pack()
// What a small command needs. Every module evaluated here is deserialized on every start: without
// restore, the table formatter, json and save (and what only they require) `list --timeout` started
// 15-19 ms sooner in the lab, `list -n` no later, `save -n` of a small table 7-20 ms later (two
// boots, 31 and 41 paired rounds). command.js (the option interpreter) stays: without it, a
// one-service listing started ~20 ms later.
const WARM = [
  'dist/src/cli/main.js',
  'dist/src/cli/ipvs.js',
  'dist/src/ipvs/client.js',
  'dist/src/ipvs/command.js',
  'dist/src/ipvs/format/timeouts.js',
  'dist/src/ipvs/format/names.js',
  'node_modules/netlink/dist/raw.js',
];
const BLOB = path.join(DIST, 'lvsd.blob');
// V8 flags for every start from the snapshot. V8 refuses a blob started with flags other than
// the ones it was built with, so they are written to dist/lvsd.blob.node for bin/lvsd to pass.
// --no-sparkplug: V8's baseline compiler made machine code for ~40-50 ms of a 0.1 s command such
// as `lvsd ipvs list --timeout` under the lab's emulation, code that a short command never pays
// back. Long commands still get TurboFan's code: restore and list -n of 10,000 services x 4 took
// as long without Sparkplug (lab, 3 runs each).
// --max-semi-space-size=2 (MiB), the director unit's young generation: a command that reads or
// restores a big table keeps most of what it allocates until it exits, and a young generation
// that grows to 16 MiB copied all of it in long scavenges. Host replay of 10,000 services x 4,
// cold, 9 alternating fresh processes each: restore encoding 353 -> 275 ms, list -n 290 -> 269 ms.
// (1 MiB: about the same for these; one lab boot's director cold start was slower with it.)
const V8_FLAGS = ['--no-sparkplug', '--max-semi-space-size=2'];
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
  const queue = [path.join(ROOT, ENTRY), path.join(ROOT, WARM_UP)];
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
// Built-in modules that a packed module takes at load time but uses only later, if ever; they
// load on first use. commander takes child_process for executable subcommands, which lvsd has
// none of. Loaded in the snapshot, it brings net, dgram and their bindings, which node sets up
// again on every start: ~20 ms of each start in the lab.
const DEFERRED = new Set(${JSON.stringify(DEFERRED_BUILTINS)});
function deferred(spec) {
  let real;
  const target = () => (real ??= require(spec));
  return new Proxy({}, {
    get: (_, key) => target()[key],
    has: (_, key) => key in target(),
  });
}
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
// Paths by concatenation: an id is path.relative's path from root, so root + '/' + id names the file.
// (In the lab, each path.join of a module load costs milliseconds of interpreted string work.)
function load(id) {
  const cached = cache[id];
  if (cached) return cached.exports;
  const filename = root + '/' + id;
  const dirname = filename.slice(0, filename.lastIndexOf('/'));
  const module = { id: filename, filename, exports: {}, loaded: false, paths: [] };
  cache[id] = module;
  const links = LINKS[id];
  const req = (spec) => {
    const target = links[spec];
    if (target !== undefined) return load(target);
    if (DEFERRED.has(spec)) return deferred(spec);
    if (isBuiltin(spec)) return require(spec);
    return outsideRequire(spec.startsWith('.') ? path.resolve(dirname, spec) : spec);
  };
  req.resolve = (spec) => require('node:module').createRequire(filename).resolve(spec);
  FACTORIES[id](module.exports, req, module, filename, dirname);
  module.loaded = true;
  return module.exports;
}
`);
  for (const [id, file] of modules) {
    const source = fs.readFileSync(file, 'utf8').replace(/^#!.*/, '').replace(/\/\/# sourceMappingURL=.*$/m, '');
    const body = file.endsWith('.json') ? `module.exports = ${source.trim()};` : source;
    out.push(`FACTORIES[${JSON.stringify(id)}] = function (exports, require, module, __filename, __dirname) {\n${body}\n};\n`);
  }
  // The netlink package finds its native binding through node-gyp-build, which searches the
  // package's folders and reads its package.json on every start (~0.2 s in the lab). Here the
  // package's dist/raw.js gets an object that loads the file found at build time on first use, so
  // that raw.js itself (and the os module it requires) can be loaded while the snapshot is built;
  // node-gyp-build stays the fallback.
  const netlinkDir = path.dirname(require.resolve('netlink/package.json', { paths: [ROOT] }));
  const binding = path.relative(netlinkDir, require('node-gyp-build').path(netlinkDir));
  const netlinkId = path.relative(ROOT, netlinkDir);
  out.push(`
const NODE_GYP_BUILD = 'node_modules/node-gyp-build/index.js';
const searchBinding = FACTORIES[NODE_GYP_BUILD];
FACTORIES[NODE_GYP_BUILD] = function (exports, require, module, __filename, __dirname) {
  const search = (dir) => {
    const found = { exports: {} };
    searchBinding(found.exports, require, found, __filename, __dirname);
    return found.exports(dir);
  };
  module.exports = (dir) => {
    // raw.js asks for __dirname + '/..', its __dirname being load()'s dirname
    if (dir !== root + '/' + ${JSON.stringify(netlinkId + '/dist/..')}) return search(dir);
    let native;
    return {
      get NativeNetlink() {
        // while the snapshot is built there is no socket: src/cli/warm-up.ts lends a stand-in
        if (v8.startupSnapshot.isBuildingSnapshot()) return globalThis[Symbol.for('lvsd.warm-up.NativeNetlink')];
        if (!native) {
          const found = { exports: {} };
          try {
            process.dlopen(found, root + '/' + ${JSON.stringify(path.join(netlinkId, binding))});
            native = found.exports;
          } catch {
            native = search(root + '/' + ${JSON.stringify(netlinkId)});
          }
        }
        return native.NativeNetlink;
      },
    };
  };
};
`);
  out.push(`
for (const id of ${JSON.stringify(WARM)}) load(id);
if (process.env.LVSD_SNAPSHOT_WARM_UP !== '0') load(${JSON.stringify(WARM_UP)}).warmUp().catch((err) => { console.error('build-snapshot: warm-up failed:', err); process.exitCode = 1; });
// The repository of a blob in <root>/dist. bin/lvsd passes an absolute path without . or ..
// parts (it comes from /proc/self/exe), for which string work does; path.resolve (slow under
// emulation) for any other.
function rootOfBlob(blob) {
  const cut = blob.lastIndexOf('/dist/');
  const plain = blob.startsWith('/') && !blob.includes('/.') && cut >= 0 && !blob.includes('/', cut + 6);
  return plain ? blob.slice(0, cut) : path.resolve(path.dirname(blob), '..');
}
rootOfBlob(root + '/dist/lvsd.blob'); // compiled now rather than on every start
v8.startupSnapshot.setDeserializeMainFunction(() => {
  // First of all, tell bin/lvsd (native/launcher/lvsd.c) that node took the snapshot: until this
  // byte, a node that stops has run nothing of lvsd, and bin/lvsd runs the JavaScript instead.
  // (A write that fails throws here, still before lvsd: that too ends in the JavaScript, once.)
  const started = process.env.LVSD_STARTED_FD;
  if (started !== undefined) {
    delete process.env.LVSD_STARTED_FD;
    const fs = require('node:fs');
    try {
      fs.writeSync(Number(started), 's');
    } finally {
      fs.closeSync(Number(started));
    }
  }
  // The blob sits in <root>/dist: find the repository from where this run loaded it.
  const args = process.execArgv;
  let blob;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--snapshot-blob') blob = args[i + 1];
    else if (args[i].startsWith('--snapshot-blob=')) blob = args[i].slice('--snapshot-blob='.length);
  }
  if (blob) root = rootOfBlob(blob);
  // A snapshot run has no script in argv; give the CLI the shape it expects.
  const argv = [process.argv[0], root + '/bin/lvsd', ...process.argv.slice(1)];
  load(${JSON.stringify(ENTRY)}).main(argv);
});
`);
  // V8 keeps a script's source for lazy compilation. One character above U+00FF (an en dash in a
  // comment of commander's) makes it a two-byte string: 1.1 MB of the snapshot instead of 0.6 MB,
  // all deserialized on every start. A \u escape means the same in code, strings, regular
  // expressions and comments.
  return out.join('\n').replace(/[^\x00-\x7f]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** The first "flags" line of /proc/cpuinfo, as bin/lvsd reads it. */
function cpuFlagsLine() {
  const m = /^flags\b.*$/m.exec(fs.readFileSync('/proc/cpuinfo', 'latin1'));
  if (!m) throw new Error('build-snapshot: no flags line in /proc/cpuinfo');
  return m[0];
}

/** What bin/lvsd compares with the node it finds: inode, size, mtime and ctime (ns). */
function nodeIdentity(file) {
  const st = fs.statSync(file, { bigint: true });
  return `${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}`;
}

/** What bin/lvsd compares with the blob it finds: size and mtime (ns); kept by cp -a, changed by any write. */
function blobIdentity(file) {
  const st = fs.statSync(file, { bigint: true });
  return `${st.size} ${st.mtimeNs}`;
}

function main() {
  // another path: to compare snapshots in a benchmark, or a copy of the tree in a test (the blob
  // serves the tree it sits in: <root>/dist/lvsd.blob)
  const blob = path.resolve(process.argv[2] || BLOB);
  const builtBy = `${blob}.node`;
  const graph = collect();
  for (const id of WARM) if (!graph.modules.has(id)) throw new Error(`build-snapshot: ${id} is not reachable from ${ENTRY}`);
  const script = path.join(path.dirname(blob), 'lvsd.snapshot.js');
  fs.writeFileSync(script, pack(graph));
  fs.rmSync(builtBy, { force: true });
  fs.rmSync(blob, { force: true });
  // --no-warnings: node warns that commander's require('node:child_process') is "not yet fully
  // verified" in snapshots; commander only uses it for executable subcommands, which lvsd has none of.
  // stdout is /dev/null: the warm-up runs a command of the CLI, which prints (and must find a
  // descriptor that takes its write at once: see src/cli/output.ts).
  execFileSync(process.execPath, [...V8_FLAGS, '--no-warnings', '--snapshot-blob', blob, '--build-snapshot', script], { stdio: ['inherit', 'ignore', 'inherit'], cwd: ROOT });
  // bin/lvsd starts the blob only with the node that built it (the same file: a node replaced in
  // place is another), if the blob is the one written here, on a CPU with the same features, with
  // the same V8 flags: V8 tags a snapshot with its version, flags and the CPU features it
  // detected, and refuses (exit 14) a blob whose tag differs, e.g. one built on the host and
  // started in the qemu lab; a damaged blob makes node abort. Written last, through a rename:
  // a build stopped halfway leaves no description, and bin/lvsd runs the JavaScript.
  const description = [process.execPath, nodeIdentity(process.execPath), blobIdentity(blob), cpuFlagsLine(), V8_FLAGS.join(' ')];
  fs.writeFileSync(`${builtBy}.tmp`, description.join('\n') + '\n');
  fs.renameSync(`${builtBy}.tmp`, builtBy);
  console.log(`build-snapshot: ${graph.modules.size} modules, ${WARM.length} warm, ${(fs.statSync(blob).size / 1048576).toFixed(1)} MiB -> ${path.relative(ROOT, blob)}`);
}

main();
