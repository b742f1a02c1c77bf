// `lvsd director status|drain|enable|weight|reload` as a person runs them, against a control
// socket served here: output, exit codes (0 ok, 1 refused, 2 usage), and no netlink opened.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startControlServer } from '../../../src/director/control';
import { PlainDirector } from '../../support/director-fixture';

const HARNESS = join(__dirname, '../../support/director-cli.js');

function lvsd(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HARNESS, 'director', ...args], { timeout: 20_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('lvsd director control commands', () => {
  let dir: string;
  let sock: string;
  let director: PlainDirector;
  let server: { close(): Promise<void> };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsd-cli-'));
    sock = join(dir, 'director.sock');
    director = new PlainDirector();
    server = await startControlServer(director, { path: sock });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status prints an ipvsadm-like table with state, health and the last check', async () => {
    const r = await lvsd(['status', '-s', sock]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /^lvsd director 0\.1\.0 \(pid 4242\), up \S+; config \/etc\/lvsd\/director\.yaml loaded \S+ ago$/);
    assert.ok(lines.includes('Prot LocalAddress:Port Scheduler Flags'));
    assert.ok(lines.includes('TCP  198.18.0.10:3306 wlc persistent 300  (mysql-read; up weight 5, quorum 2 met)'));
    assert.ok(lines.includes('TCP  [2001:db8::10]:80 rr  (web; up weight 1)'));
    const down = lines.find((l) => l.startsWith('  -> 198.18.0.23:3306'));
    assert.match(down ?? '', /^  -> 198\.18\.0\.23:3306 +Route +0 +2 +0 +0 +down +down +\S+ +mysql: replica lag 412 s > 60 s <script>window.__xss=1<\/script> \(2\.5 ms\)$/);
    const up = lines.find((l) => l.startsWith('  -> 198.18.0.21:3306'));
    assert.match(up ?? '', /^  -> 198\.18\.0\.21:3306 +Route +3 +3 +17 +42 +up +up /);
    const drained = lines.find((l) => l.startsWith('  -> [2001:db8::32]:80'));
    assert.match(drained ?? '', / drained +up .*\[drained by operator\]$/);
    const vrrp = lines.find((l) => l.startsWith('vrrp VI_1: '));
    assert.match(vrrp ?? '', /^vrrp VI_1: MASTER for \S+, vrid 60 on eth0 \(VRRPv2\), priority 90 \(configured 100\), 198\.18\.0\.10\/32; adverts 3000 sent, 12 received, dropped: 3 addresses, 1 ttl; 2 transitions, 2 send errors$/);
  });

  it('status never lets a control character from a reason reach the terminal', async () => {
    const check = director.data.services[0].servers[2].checks[1];
    const saved = check.lastReason;
    check.lastReason = 'evil\x1b[2J\x07';
    try {
      const r = await lvsd(['status', '-s', sock]);
      assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(r.stdout));
      assert.match(r.stdout, /mysql: evil\?\[2J\?/);
    } finally {
      check.lastReason = saved;
    }
  });

  it('status --json prints the DirectorStatus', async () => {
    const r = await lvsd(['status', '--json', '-s', sock]);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), director.status());
  });

  it('drain, weight and enable print the director answer and exit 0', async () => {
    director.calls.length = 0;
    let r = await lvsd(['drain', '198.18.0.21:3306', '--service', 'mysql-read', '-s', sock]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'drained mysql-read/198.18.0.21:3306\n', '']);
    r = await lvsd(['weight', '198.18.0.22', '9', '-s', sock]);
    assert.deepEqual([r.code, r.stdout], [0, 'weight 9 for mysql-read/198.18.0.22:3306\n']);
    r = await lvsd(['enable', '198.18.0.21:3306', '-s', sock]);
    assert.deepEqual([r.code, r.stdout], [0, 'enabled mysql-read/198.18.0.21:3306\n']);
    assert.deepEqual(director.calls, [
      { op: 'drain', sel: { server: '198.18.0.21:3306', service: 'mysql-read' } },
      { op: 'weight', sel: { server: '198.18.0.22' }, weight: 9 },
      { op: 'enable', sel: { server: '198.18.0.21:3306' } },
    ]);
  });

  it('a server that matches nothing exits 1 with the director reason', async () => {
    const r = await lvsd(['drain', '198.18.0.99', '-s', sock]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', 'lvsd: no server matches 198.18.0.99\n']);
  });

  it('usage errors exit 2 and send nothing to the director', async () => {
    director.calls.length = 0;
    const cases: [string[], string][] = [
      [['weight', '198.18.0.21', '70000'], 'lvsd: WEIGHT: must be an integer from 0 to 65535, got "70000"\n'],
      [['weight', '198.18.0.21', 'heavy'], 'lvsd: WEIGHT: must be an integer from 0 to 65535, got "heavy"\n'],
      [['drain', 'db1.example'], 'lvsd: SERVER "db1.example": not an IP address (give ADDR, ADDR:PORT or [IPV6]:PORT)\n'],
      [['enable', '198.18.0.21:0x50'], 'lvsd: SERVER "198.18.0.21:0x50": port "0x50" is not a number from 0 to 65535 (give ADDR, ADDR:PORT or [IPV6]:PORT)\n'],
      [['weight', '198.18.0.21'], "error: missing required argument 'weight'\n"],
      [['drain'], "error: missing required argument 'server'\n"],
      [['drain', '198.18.0.21', '--force'], "error: unknown option '--force'\n"],
    ];
    for (const [args, stderr] of cases) {
      const r = await lvsd([...args, '-s', sock]);
      assert.deepEqual([r.code, r.stderr], [2, stderr], args.join(' '));
    }
    assert.deepEqual(director.calls, []);
  });

  it('reload prints the operations applied, or the config errors and exits 1', async () => {
    director.nextReload = { ok: true, ops: 3 };
    let r = await lvsd(['reload', '-s', sock]);
    assert.deepEqual([r.code, r.stdout], [0, 'reloaded: 3 IPVS operations applied\n']);
    director.nextReload = {
      ok: false,
      ops: 0,
      errors: ['/etc/lvsd/director.yaml:12:7: services[0].servers[1].weight: must be from 0 to 65535, got 70000', '/etc/lvsd/director.yaml:20:3: services[1].sheduler: unknown key'],
    };
    r = await lvsd(['reload', '-s', sock]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'lvsd: reload rejected, the running config keeps serving:\n' +
        '  /etc/lvsd/director.yaml:12:7: services[0].servers[1].weight: must be from 0 to 65535, got 70000\n' +
        '  /etc/lvsd/director.yaml:20:3: services[1].sheduler: unknown key\n',
    );
  });

  it('without a running director every command exits 1 and says so', async () => {
    const none = join(dir, 'none.sock');
    for (const args of [['status'], ['drain', '198.18.0.21'], ['reload']]) {
      const r = await lvsd([...args, '-s', none]);
      assert.deepEqual([r.code, r.stderr], [1, `lvsd: no director is running: cannot connect to ${none} (ENOENT)\n`], args.join(' '));
    }
  });

  it('loads no netlink code: the director owns the kernel table', async () => {
    const out = join(dir, 'modules.json');
    for (const args of [['status'], ['drain', '198.18.0.21'], ['weight', '198.18.0.21', '2'], ['enable', '198.18.0.21'], ['reload']]) {
      const r = await lvsd([...args, '-s', sock], { LVSD_TEST_MODULES_OUT: out });
      assert.ok(r.code === 0 || r.code === 1, `${args.join(' ')}: ${r.stderr}`);
      const modules = JSON.parse(readFileSync(out, 'utf8')) as string[];
      assert.ok(modules.some((m) => m.endsWith('/src/director/control-client.js')), 'the client was loaded (the list is real)');
      const kernelSide = modules.filter((m) => /\/src\/(netlink|ipvs|rtnl)\/|\/node_modules\/netlink\/|\.node$/.test(m));
      assert.deepEqual(kernelSide, [], args.join(' '));
    }
  });
});
