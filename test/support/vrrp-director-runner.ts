// The director's VRRP part (DirectorVrrp: config -> password sources -> router -> raw sockets)
// in a child process, so a test can start it inside a network namespace of its own
// (`ip netns exec NAME node vrrp-director-runner.js JSON`). It loads the director config text
// as the daemon does, runs for `runMs`, then prints one JSON line: the instances' status and the
// metrics exposition made from it; the log (debug level) goes to `logFile`.
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import type { DirectorStatus } from '../../src/director/api';
import { parseDirectorConfig } from '../../src/config/director';
import { familyChunks } from '../../src/director/metrics';
import { DirectorVrrp } from '../../src/director/vrrp';

export interface VrrpRunnerJob {
  /** director config text (YAML) with a vrrp section */
  config: string;
  runMs: number;
  logFile: string;
  /** after the run, write this password into this file and ask what a reload would find */
  rewrite?: { file: string; password: string };
}

export interface VrrpRunnerOutcome {
  status: ReturnType<DirectorVrrp['status']>;
  metrics: string;
  /** DirectorVrrp.authChanges for the same config, before and after the rewrite */
  authChanges?: { before: string[]; after: string[] };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as VrrpRunnerJob;
  const config = parseDirectorConfig(job.config, 'director.yaml');
  const log = pino({ level: 'debug' }, pino.destination({ dest: job.logFile, sync: true }));
  const vrrp = await DirectorVrrp.start({ config: config.vrrp!, log });
  await new Promise((r) => setTimeout(r, job.runMs));
  const status = vrrp.status();
  const st: DirectorStatus = {
    version: 'test',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    config: { path: 'director.yaml', loadedAt: new Date().toISOString() },
    reloads: { ok: 0, failed: 0 },
    reconcile: { opsTotal: 0, lastOps: 0, failuresTotal: 0 },
    services: [],
    vrrp: status,
  };
  const metrics = [...familyChunks(st as Parameters<typeof familyChunks>[0])].join('');
  let authChanges: VrrpRunnerOutcome['authChanges'];
  if (job.rewrite) {
    const before = vrrp.authChanges(config.vrrp!);
    writeFileSync(job.rewrite.file, `${job.rewrite.password}\n`, { mode: 0o600 });
    authChanges = { before, after: vrrp.authChanges(config.vrrp!) };
  }
  await vrrp.stop();
  process.stdout.write(`${JSON.stringify({ status, metrics, ...(authChanges ? { authChanges } : {}) } satisfies VrrpRunnerOutcome)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
