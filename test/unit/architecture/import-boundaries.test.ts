// The dependency rules (test/unit/architecture/boundaries.ts) hold for every import in src/,
// realserver/ and bench/, and the checker does report a broken rule and a cycle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { cycles, importsOf, readTree, violations } from './boundaries';

/** Repository root (this file runs as dist/test/unit/architecture/import-boundaries.test.js). */
const ROOT = resolve(__dirname, '../../../..');

function show(list: { from: string; line: number; specifier: string; rule: string }[]): string {
  return list.map((v) => `${v.from}:${v.line}: '${v.specifier}': ${v.rule}`).join('\n');
}

test('every import in src/, realserver/ and bench/ follows the dependency rules', () => {
  const files = readTree(ROOT, ['src', 'realserver', 'bench']);
  assert.ok(files.size > 50, `read ${files.size} files`);
  assert.ok([...files.keys()].some((p) => p.startsWith('src/netlink/')), 'src/netlink was read');
  const broken = violations(files);
  assert.equal(broken.length, 0, `\n${show(broken)}`);
});

test('no import cycles in src/ and realserver/ (type-only imports count)', () => {
  const found = cycles(readTree(ROOT, ['src', 'realserver']));
  assert.deepEqual(found, [], found.map((c) => c.join(' <-> ')).join('\n'));
});

test('every form of import is seen: import, import type, export from, require, import(), typeof import()', () => {
  const source = [
    "import { a } from '../netlink/socket';",
    "import type { B } from '../ipvs/types';",
    "import { type C } from '../health/core';",
    "export { d } from '../rtnl/link';",
    "const e = require('../cli/main');",
    "void import('../../realserver/realserver');",
    "type F = typeof import('../../test/support/servers');",
    "import pino from 'pino';",
    "import { join } from 'node:path';",
  ].join('\n');
  const seen = importsOf('src/director/x.ts', source).map((i) => `${i.line} ${i.to}${i.typeOnly ? ' (type)' : ''}`);
  assert.deepEqual(seen, [
    '1 src/netlink/socket',
    '2 src/ipvs/types (type)',
    '3 src/health/core (type)',
    '4 src/rtnl/link',
    '5 src/cli/main',
    '6 realserver/realserver',
    '7 test/support/servers (type)',
  ]);
});

/** The rules broken by one synthetic file, as "component must not import component" words. */
function brokenBy(path: string, source: string): string[] {
  return violations(new Map([[path, source]])).map((v) => v.rule.replace(/;.*/, ''));
}

test('a broken rule is reported with file, line and the rule', () => {
  const v = violations(new Map([['src/director/reconciler.ts', "// comment\nimport { NetlinkSocket } from '../netlink/socket';\n"]]));
  assert.equal(v.length, 1);
  assert.equal(v[0].from, 'src/director/reconciler.ts');
  assert.equal(v[0].line, 2);
  assert.equal(v[0].specifier, '../netlink/socket');
  assert.match(v[0].rule, /^director must not import netlink; director may import reconciler, ipvs, health, config, vrrp, errors, log, native$/);
});

test('each rule catches its violation (and allows what it allows)', () => {
  // the director reaches the kernel only through ipvs
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../netlink/socket';"), ['director must not import netlink']);
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../rtnl/link';"), ['director must not import rtnl']);
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../ipvs/types'; import '../health/core'; import '../config/schema'; import '../errors'; import '../log';"), []);
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../cli/main';"), ['director must not import cli']);
  // netlink imports neither ipvs nor rtnl
  assert.deepEqual(brokenBy('src/netlink/x.ts', "import '../ipvs/types'; import '../rtnl/link';"), ['netlink must not import ipvs', 'netlink must not import rtnl']);
  // health imports neither director nor ipvs
  assert.deepEqual(brokenBy('src/health/x.ts', "import '../director/api'; import type { Ipvs } from '../ipvs/types';"), ['health must not import director', 'health must not import ipvs']);
  // config: nothing of director or ipvs; health's check vocabulary, yes; health never imports config
  assert.deepEqual(brokenBy('src/config/x.ts', "import { ROLES } from '../health/mysql/roles'; import type { WatchOptions } from '../health/core';"), []);
  assert.deepEqual(brokenBy('src/config/x.ts', "import '../director/api'; import type { Ipvs } from '../ipvs/types';"), ['config must not import director', 'config must not import ipvs']);
  assert.deepEqual(brokenBy('src/health/x.ts', "import '../config/checks';"), ['health must not import config']);
  // a reconciler of its own: director -> reconciler -> ipvs
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../reconciler/plan';"), []);
  assert.deepEqual(brokenBy('src/reconciler/x.ts', "import '../ipvs/types';"), []);
  assert.deepEqual(brokenBy('src/reconciler/x.ts', "import '../director/api'; import '../netlink/socket';"), ['reconciler must not import director', 'reconciler must not import netlink']);
  // a folder the rules do not know yet is reported, not let through
  assert.match(violations(new Map([['src/newthing/x.ts', "import '../ipvs/types';"]]))[0].rule, /src\/newthing\/x\.ts is in no component/);
  assert.match(violations(new Map([['src/ipvs/x.ts', "import '../newthing/y';"]]))[0].rule, /src\/newthing\/y is in no component/);
  // ipvs does not reach up
  assert.deepEqual(brokenBy('src/ipvs/x.ts', "import '../director/api'; import '../health/core'; import '../cli/output';"), ['ipvs must not import director', 'ipvs must not import health', 'ipvs must not import cli']);
  // realserver -> rtnl -> netlink; realserver may use config, errors and log
  assert.deepEqual(brokenBy('realserver/x.ts', "import '../src/rtnl/link'; import '../src/netlink/socket'; import '../src/config/schema'; import '../src/errors'; import '../src/log';"), []);
  assert.deepEqual(brokenBy('realserver/x.ts', "import '../src/ipvs/client'; import '../src/health/core'; import '../src/director/api';"), ['realserver must not import ipvs', 'realserver must not import health', 'realserver must not import director']);
  assert.deepEqual(brokenBy('src/rtnl/x.ts', "import '../ipvs/types'; import '../../realserver/config';"), ['rtnl must not import ipvs', 'rtnl must not import realserver']);
  // nothing in src/ but the command line imports realserver/
  assert.deepEqual(brokenBy('src/director/x.ts', "import '../../realserver/realserver';"), ['director must not import realserver']);
  assert.deepEqual(brokenBy('src/cli/x.ts', "require('../../realserver/realserver');"), []);
  // src/ never imports test/; bench/ only test/support/ (the lab topology), never a test
  assert.deepEqual(brokenBy('bench/x.ts', "import { PairLab } from '../test/support/vrrp-lab';"), []);
  assert.deepEqual(brokenBy('bench/x.ts', "import '../test/lab/e2e/web.lab.test';"), ['bench must not import test']);
  assert.deepEqual(brokenBy('src/health/x.ts', "import '../../test/support/fake-clock';"), ['health must not import test-support']);
  assert.deepEqual(brokenBy('src/cli/x.ts', "import type { FakeClock } from '../../test/support/fake-clock';"), ['cli must not import test-support']);
  // errors and log are leaves
  assert.deepEqual(brokenBy('src/errors.ts', "import './log';"), ['errors must not import log']);
  assert.deepEqual(brokenBy('src/log/index.ts', "import '../errors';"), ['log must not import errors']);
  // cli sits on top: it may use the layers below, but not netlink directly
  assert.deepEqual(brokenBy('src/cli/x.ts', "import '../director/api'; import '../ipvs/client'; import '../health/core';"), []);
  assert.deepEqual(brokenBy('src/cli/x.ts', "import '../netlink/socket';"), ['cli must not import netlink']);
});

test('a cycle is found, type-only imports included; a chain is not a cycle', () => {
  const files = new Map([
    ['src/ipvs/types.ts', "import type { Row } from './procfs';\n"],
    ['src/ipvs/procfs.ts', "import { summary } from './summary';\n"],
    ['src/ipvs/summary.ts', "import type { ServiceEntry } from './types';\n"],
    ['src/ipvs/client.ts', "import type { ServiceEntry } from './types';\n"],
  ]);
  assert.deepEqual(cycles(files), [['src/ipvs/procfs', 'src/ipvs/summary', 'src/ipvs/types']]);
  files.set('src/ipvs/summary.ts', "import { join } from 'node:path';\n"); // the circle broken: a chain remains
  assert.deepEqual(cycles(files), []);
});
