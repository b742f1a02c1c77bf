// The core logs transitions by watch id and reason only: never the checker's key or parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('transition logs name the watch and the reason, never the checker key', () => {
  const core = join(__dirname, '../../../src/health/core.js');
  const script = `
    const { HealthMonitor } = require(${JSON.stringify(core)});
    const monitor = new HealthMonitor();
    let n = 0;
    const checker = {
      kind: 'mysql',
      key: 'mysql:198.18.0.11:3306:user=lvs password=CANARY-7f3a',
      password: 'CANARY-7f3a',
      run: async () => (++n === 1 ? { ok: true, reason: 'login ok', latencyMs: 1 } : { ok: false, reason: 'ERR 1045 access denied', latencyMs: 1 }),
    };
    monitor.watch('vs 198.18.0.10:3306 rs 198.18.0.11:3306', checker, { intervalMs: 20, rise: 1, fall: 1 });
    setTimeout(() => monitor.stop(), 200);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LVSD_LOG_LEVEL: 'debug' }, timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.component, l.watch, l.from, l.to, l.msg]),
    [
      ['health', 'vs 198.18.0.10:3306 rs 198.18.0.11:3306', 'down', 'up', 'vs 198.18.0.10:3306 rs 198.18.0.11:3306 is up: login ok'],
      ['health', 'vs 198.18.0.10:3306 rs 198.18.0.11:3306', 'up', 'down', 'vs 198.18.0.10:3306 rs 198.18.0.11:3306 is down: ERR 1045 access denied'],
    ],
  );
  assert.doesNotMatch(r.stdout + r.stderr, /CANARY|password|user=/);
});
