// docs/migrating.md shows the seeds' setups beside lvsd's: every config it shows must load, every
// YAML block in it must be a verbatim excerpt of such a file, the import-keepalived output it
// shows must be what the import prints today, and its realserver commands must use real options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { checkConfig, loadDirectorConfig } from '../../../src/config/director';
import { resolveConfig } from '../../../realserver/config';

const REPO = join(__dirname, '../../../..');
const EXAMPLES = 'config/examples-migrating';
const DOC = readFileSync(join(REPO, 'docs/migrating.md'), 'utf8');
const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'lvsd-migrating-'));
const directorExamples = readdirSync(join(REPO, EXAMPLES)).filter((f) => /^director-.*\.yaml$/.test(f)).sort();
const realserverExamples = readdirSync(join(REPO, EXAMPLES)).filter((f) => /^realserver-.*\.yaml$/.test(f)).sort();

function lvsd(args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/lvsd.js'), ...args], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fenced blocks of a markdown text with the given info string. */
function blocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm'))].map((m) => m[1]);
}

test('the director examples for migrating load, with their password files present and without them (checkFiles: false), and fit the JSON Schema', () => {
  assert.ok(directorExamples.length >= 4, directorExamples.join(', '));
  const schema = JSON.parse(readFileSync(join(REPO, 'config/director.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  for (const name of directorExamples) {
    const path = join(REPO, EXAMPLES, name);
    assert.deepEqual(checkConfig(path, { checkFiles: false }), { ok: true, errors: [] }, name);
    assert.equal(validate(parse(readFileSync(path, 'utf8'))), true, `${name}: ${JSON.stringify(validate.errors)}`);
    // with /etc/lvsd/ pointed at a temp dir holding every file it names (0600), the full check passes too
    const text = readFileSync(path, 'utf8').replaceAll('/etc/lvsd/', `${dir}/`);
    for (const m of text.matchAll(/(?:password_file|auth_pass_file|cert_file|key_file): (\S+)/g)) {
      writeFileSync(m[1], 'example-password\n');
      chmodSync(m[1], 0o600);
    }
    writeFileSync(join(dir, name), text);
    assert.deepEqual(checkConfig(join(dir, name)), { ok: true, errors: [] }, name);
  }
});

test('the examples use documentation addresses only (198.18.0.0/15, loopback)', () => {
  for (const name of directorExamples) {
    const config = loadDirectorConfig(join(REPO, EXAMPLES, name), { checkFiles: false });
    const addresses = config.services.flatMap((s) => [s.key.address, ...s.servers.map((r) => r.address)]);
    for (const i of config.vrrp?.instances ?? []) addresses.push(...i.addresses.map((a) => a.address));
    if (config.global.status.listen) addresses.push(config.global.status.listen.address);
    for (const a of addresses.filter((x): x is string => x !== undefined)) {
      assert.ok(isIPv4(a) && (/^198\.(18|19)\./.test(a) || a === '127.0.0.1'), `${name}: ${a}`);
    }
  }
});

test('seed 001 (HAProxy + Heartbeat): rr over the two masters with an authenticated check, the VIP shared over VRRP', () => {
  const config = loadDirectorConfig(join(REPO, EXAMPLES, 'director-seed-001-two-masters-vrrp.yaml'), { checkFiles: false });
  const [svc] = config.services;
  assert.equal(svc.scheduler, 'rr');
  assert.equal(svc.forward, 'route');
  assert.deepEqual(svc.servers.map((s) => s.name), ['198.18.11.1:3306', '198.18.11.2:3306']);
  const [vi] = config.vrrp!.instances;
  assert.deepEqual(
    { preempt: vi.preempt, advertIntervalMs: vi.advertIntervalMs, addresses: vi.addresses.map((a) => a.address) },
    { preempt: true, advertIntervalMs: 2000, addresses: ['198.18.10.1'] },
  );
});

test('the realserver examples load as dr mode with their VIPs', () => {
  assert.ok(realserverExamples.length >= 1);
  for (const name of realserverExamples) {
    const config = resolveConfig({ config: join(REPO, EXAMPLES, name) }, { requireVips: true });
    assert.equal(config.mode, 'dr', name);
    assert.ok(config.vips.length > 0, name);
  }
});

for (const [fixture, output] of [
  ['test/fixtures/keepalived/seed-002-director1.conf', 'director-seed-002-imported.yaml'],
  ['test/fixtures/keepalived/vrrp/seed-004-ha-master.conf', 'director-seed-004-imported.yaml'],
]) {
  test(`import-keepalived ${fixture}: the YAML is ${EXAMPLES}/${output}, and the doc shows its command and every stderr line`, () => {
    const r = lvsd(['director', 'import-keepalived', fixture]);
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stdout, readFileSync(join(REPO, EXAMPLES, output), 'utf8'));
    assert.ok(DOC.includes(`lvsd director import-keepalived ${fixture}`), 'the command is shown');
    assert.ok(DOC.includes(r.stderr), `docs/migrating.md shows the stderr verbatim:\n${r.stderr}`);
  });
}

test('every YAML block in docs/migrating.md is a verbatim excerpt of a config file that is checked', () => {
  const files = [
    ...readdirSync(join(REPO, 'config')).filter((f) => /^director-.*\.yaml$/.test(f)).map((f) => `config/${f}`),
    ...readdirSync(join(REPO, 'config/lab')).filter((f) => f.endsWith('.yaml')).map((f) => `config/lab/${f}`),
    ...readdirSync(join(REPO, EXAMPLES)).map((f) => `${EXAMPLES}/${f}`),
  ].map((f) => readFileSync(join(REPO, f), 'utf8'));
  const yaml = blocks(DOC, 'yaml');
  assert.ok(yaml.length >= 5);
  for (const block of yaml) assert.ok(files.some((text) => text.includes(block)), `not an excerpt of any config file:\n${block}`);
});

test('every config file and doc the migration doc and the README name exists', () => {
  for (const text of [DOC, README]) {
    for (const m of text.matchAll(/\b((?:config|realserver|docs|test\/fixtures)\/[\w./-]+\.(?:ya?ml|service|conf|md))\b/g)) {
      assert.ok(existsSync(join(REPO, m[1])), m[1]);
    }
  }
  assert.match(README, /\(docs\/migrating\.md\)/);
});

test('every `lvsd realserver` command in the doc and the README uses options its --help lists', () => {
  const known = new Map<string, Set<string>>();
  for (const sub of ['up', 'down', 'status']) {
    const help = lvsd(['realserver', sub, '--help']).stdout;
    known.set(sub, new Set(help.match(/(?<=^|[\s,])--?[a-z][a-z-]*/gm)));
  }
  const commands = [...(DOC + README).matchAll(/lvsd(?:\.js)? realserver (up|down|status)((?: +--?[a-z][\w.:/-]*(?: +[^\s`-][^\s`]*)?)*)/g)];
  assert.ok(commands.length >= 5, `${commands.length} commands found`);
  for (const [line, sub, rest] of commands) {
    for (const option of rest.split(/\s+/).filter((t) => t.startsWith('-'))) assert.ok(known.get(sub)!.has(option), `${line}: ${option} is not an option of realserver ${sub}`);
  }
});
