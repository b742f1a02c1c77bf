// Authenticated MySQL check cost against a local MariaDB (started here, 127.0.0.1): checks per
// second and client CPU per check, ~20 concurrent, for mysql_native_password, TLS, ed25519 and
// ed25519+TLS; plus, in the same run, the raw mariadb connector (the adapter's overhead) and
// the reference an operator uses today with keepalived: a MISC_CHECK script running the mariadb
// client per check (CPU of the child processes).
//
//   node dist/bench/health-mysql-bench.js [--seconds 8] [--concurrency 20] [--out bench/results/health-mysql.md]
//
// checks/s/core = 1000 / (client CPU ms per check): what one fully busy core would sustain.
// The server runs on the same 2 cores, so wall-clock checks/s is lower than that.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as mariadb from 'mariadb';
import { runWithDeadline } from '../src/health/deadline';
import { MysqlChecker } from '../src/health/mysql';
import { giveToServerUser, makeServerDir, startMariadb, type MariadbServer } from './support/mariadb';
import { makeCertificates } from './support/mariadb-tls';

const HARD_LIMIT_MS = 300_000;
const started = Date.now();

interface Options {
  seconds: number;
  concurrency: number;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 8, concurrency: 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (max: number): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${a}: an integer from 1 to ${max}`);
      return v;
    };
    if (a === '--seconds') o.seconds = num(60);
    else if (a === '--concurrency') o.concurrency = num(500);
    else if (a === '--out') o.out = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Row {
  name: string;
  checks: number;
  failures: number;
  checksPerS: number;
  cpuMsPerCheck: number;
  perCore: number;
  serverCpuMsPerCheck: number;
}

/** CPU ms of this process (user + system). */
function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms of reaped children (cutime + cstime in /proc/self/stat). */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]); // cutime, cstime (fields 16, 17)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU ms of the server process (utime + stime). */
function serverCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function measure(
  name: string,
  opts: Options,
  serverPid: number,
  one: () => Promise<boolean>,
  cpu: () => number = selfCpuMs,
  concurrency = opts.concurrency,
): Promise<Row> {
  // warm-up: JIT, TLS session setup paths, server thread cache
  const warmEnd = Date.now() + 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < warmEnd) await one();
  }));
  const cpu0 = cpu();
  const server0 = serverCpuMs(serverPid);
  const t0 = performance.now();
  const end = Date.now() + opts.seconds * 1000;
  let checks = 0;
  let failures = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end && Date.now() - started < HARD_LIMIT_MS) {
      checks++;
      if (!(await one())) failures++;
    }
  }));
  const wallS = (performance.now() - t0) / 1000;
  const cpuMs = cpu() - cpu0;
  const row: Row = {
    name,
    checks,
    failures,
    checksPerS: checks / wallS,
    cpuMsPerCheck: cpuMs / checks,
    perCore: checks / (cpuMs / 1000),
    serverCpuMsPerCheck: (serverCpuMs(serverPid) - server0) / checks,
  };
  process.stderr.write(`${name}: ${row.checks} checks, ${row.checksPerS.toFixed(0)}/s, ${row.cpuMsPerCheck.toFixed(3)} ms CPU/check\n`);
  return row;
}

function mariadbClient(db: MariadbServer, user: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'mariadb',
      ['--no-defaults', '-h', db.host, '-P', String(db.port), '-u', user, '--connect-timeout=2', '-N', '-e', 'SELECT 1'],
      { env: { PATH: process.env.PATH, MYSQL_PWD: password }, timeout: 5000 },
      (err, stdout) => resolve(!err && stdout.trim() === '1'),
    );
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const certDir = makeServerDir('lvsd-bench-certs-');
  const certs = makeCertificates(certDir);
  giveToServerUser(certs.ca, certs.serverCert, certs.serverKey);
  const db = await startMariadb({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca }, args: ['--max-connections=500'] });
  try {
    const pid = Number(readFileSync(`${db.dir}/mysqld.pid`, 'utf8'));
    const version = String((await db.sql('SELECT VERSION() AS v'))[0].v);
    await db.sql("INSTALL SONAME 'auth_ed25519'");
    await db.sql("CREATE USER 'bench_native'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('bench-native-pw')");
    await db.sql("CREATE USER 'bench_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('bench-ed-pw')");
    process.env.LVSD_BENCH_NATIVE_PW = 'bench-native-pw';
    process.env.LVSD_BENCH_ED_PW = 'bench-ed-pw';
    const check = (user: string, env: string, tls: boolean) => {
      const c = new MysqlChecker({ host: db.host, port: db.port, user, password: { env }, tls: tls ? { caFile: certs.ca } : undefined });
      return async () => (await runWithDeadline(c, 5000)).ok;
    };
    const raw = async (): Promise<boolean> => {
      const conn = await mariadb.createConnection({ host: db.host, port: db.port, user: 'bench_native', password: 'bench-native-pw', collation: 'UTF8MB4_GENERAL_CI' } as mariadb.ConnectionConfig);
      await conn.query('SELECT 1');
      await conn.end();
      return true;
    };
    const aborted0 = Number(await db.status('Aborted_connects'));
    const rows: Row[] = [];
    rows.push(await measure('lvsd mysql check, native password', opts, pid, check('bench_native', 'LVSD_BENCH_NATIVE_PW', false)));
    rows.push(await measure('raw mariadb connector (connect, SELECT 1, end)', opts, pid, raw));
    rows.push(await measure('lvsd mysql check, native password, TLS', opts, pid, check('bench_native', 'LVSD_BENCH_NATIVE_PW', true)));
    rows.push(await measure('lvsd mysql check, ed25519', opts, pid, check('bench_ed', 'LVSD_BENCH_ED_PW', false)));
    rows.push(await measure('lvsd mysql check, ed25519, TLS', opts, pid, check('bench_ed', 'LVSD_BENCH_ED_PW', true)));
    rows.push(await measure('reference: MISC_CHECK running `mariadb -e "SELECT 1"` (child CPU)', { ...opts, seconds: Math.min(opts.seconds, 5) }, pid, () => mariadbClient(db, 'bench_native', 'bench-native-pw'), childrenCpuMs, 4));
    const aborted = Number(await db.status('Aborted_connects')) - aborted0;
    const report = render(rows, { version, opts, aborted });
    process.stdout.write(report);
    if (opts.out) writeFileSync(opts.out, report);
  } finally {
    await db.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
}

function render(rows: Row[], info: { version: string; opts: Options; aborted: number }): string {
  const ref = rows[rows.length - 1];
  const lines = [
    '# MySQL health check cost',
    '',
    `Measured ${new Date().toISOString()} by \`node dist/bench/health-mysql-bench.js --seconds ${info.opts.seconds} --concurrency ${info.opts.concurrency}\`.`,
    `Host: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')};`,
    `Node ${process.version}; MariaDB ${info.version} on 127.0.0.1, started by the bench, sharing the same cores.`,
    'Each check: TCP connect, authenticated login, one query, COM_QUIT. "checks/s/core" is 1000 / client CPU ms per check.',
    '',
    '| check | checks | failed | checks/s (wall) | client CPU ms/check | checks/s/core | server CPU ms/check | CPU vs reference |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.checks} | ${r.failures} | ${r.checksPerS.toFixed(0)} | ${r.cpuMsPerCheck.toFixed(3)} | ${r.perCore.toFixed(0)} | ${r.serverCpuMsPerCheck.toFixed(3)} | ${(r.cpuMsPerCheck / ref.cpuMsPerCheck).toFixed(3)}x |`,
    ),
    '',
    `Aborted_connects grew by ${info.aborted} over the whole run.`,
    '',
    'Absolute figures move with the host\'s load (the load average above; lab VMs often share it); compare rows',
    'of one run. The reference column is the CPU of one check relative to a MISC_CHECK script running the',
    'mariadb client, which is what keepalived users run today (keepalived has no MySQL check of its own).',
    '',
  ];
  return lines.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`health-mysql-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
