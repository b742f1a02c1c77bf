// MySQL clients run from a child process, so a test can start them inside a network namespace of
// its own (`ip netns exec NAME node mysql-client-runner.js JSON`): the server then sees the
// namespace's address, and nothing is added to the host's own namespace. Prints one JSON line.
import { connect } from 'node:net';
import { runWithDeadline } from '../../src/health/deadline';
import { MysqlChecker } from '../../src/health/mysql';
import { MysqlProbe } from '../../src/health/mysql/adapter';

export type RunnerJob =
  /** `checks` health checks (roles taking turns), `concurrency` at a time, each with a 5 s deadline */
  | { kind: 'checks'; host: string; port: number; user: string; passwordEnv: string; roles: ReadonlyArray<'any' | 'writer'>; checks: number; concurrency: number; timeLimitMs: number }
  /** logins dropped without COM_QUIT, then bare TCP connects closed before the handshake */
  | { kind: 'careless'; host: string; port: number; user: string; password: string; logins: number; connects: number };

export interface ChecksOutcome {
  done: number;
  failed: number;
  /** the first few failure reasons */
  reasons: string[];
}

async function checks(job: Extract<RunnerJob, { kind: 'checks' }>): Promise<ChecksOutcome> {
  const checkers = job.roles.map((role) => new MysqlChecker({ host: job.host, port: job.port, user: job.user, password: { env: job.passwordEnv }, role }));
  let done = 0;
  const reasons: string[] = [];
  let failed = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, i) => {
      while (done < job.checks && Date.now() - started < job.timeLimitMs) {
        done++;
        const r = await runWithDeadline(checkers[i % checkers.length], 5000);
        if (!r.ok && failed++ < 3) reasons.push(r.reason);
      }
    }),
  );
  return { done, failed, reasons };
}

async function careless(job: Extract<RunnerJob, { kind: 'careless' }>): Promise<{ logins: number; connects: number }> {
  for (let i = 0; i < job.logins; i++) {
    const probe = new MysqlProbe();
    await probe.login({ host: job.host, port: job.port, user: job.user, password: job.password });
    probe.destroy();
  }
  for (let i = 0; i < job.connects; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: job.host, port: job.port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  }
  return { logins: job.logins, connects: job.connects };
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2]) as RunnerJob;
  void (job.kind === 'checks' ? checks(job) : careless(job)).then(
    (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
