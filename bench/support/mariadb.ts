// Shared by the MySQL checker tests (test/host/health) and the MySQL check benchmark.
// A throw-away MariaDB server for host tests: mariadb-install-db into a temp datadir, mariadbd on
// a free 127.0.0.1 port with its own socket, readiness wait, and a teardown that stops it and
// removes the datadir. Admin SQL runs as root over the unix socket (unix_socket auth).
// Needs Debian's mariadb-server (and galera-4 for `galera: true`).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as mariadb from 'mariadb';

export interface MariadbOptions {
  /** extra mariadbd options, e.g. ['--log-bin=mysql-bin', '--server-id=1'] */
  args?: string[];
  /** single-node Galera cluster bootstrapped on loopback ports */
  galera?: boolean;
  /** PEM files for the server's TLS, readable by the server user (see giveToServerUser) */
  tls?: { cert: string; key: string; ca: string };
  /** startup budget in ms (default 30 s) */
  startTimeoutMs?: number;
  /** run inside this network namespace (made by the test) instead of the host's */
  netns?: string;
  /** address to listen on (default 127.0.0.1); inside `netns`, an address of that namespace */
  bindAddress?: string;
}

export interface MariadbServer {
  /** where TCP clients connect: 127.0.0.1 unless bindAddress says otherwise */
  readonly host: string;
  readonly port: number;
  readonly socket: string;
  /** temp directory holding datadir, socket, logs; removed by stop() */
  readonly dir: string;
  /** runs one statement as root over the unix socket */
  sql(statement: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  /** SHOW GLOBAL STATUS value */
  status(name: string): Promise<string | null>;
  errorLog(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
// last resort when a test crashes before its teardown: no server or datadir outlives the process
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a killed server may still hold files for a moment; nothing more to do at exit
    }
  }
});

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined; // not root: the server runs as us
  const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }).trim());
  return { name: 'mysql', uid, gid };
}

/** A temp directory the server user owns (mariadbd refuses to run as root). */
export function makeServerDir(prefix = 'lvsd-mariadb-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  const user = serverUser();
  if (user) chownSync(dir, user.uid, user.gid);
  return dir;
}

/** Hands files (TLS keys and certificates) to the server user, so mariadbd can read them. */
export function giveToServerUser(...paths: string[]): void {
  const user = serverUser();
  if (user) for (const path of paths) chownSync(path, user.uid, user.gid);
}

export async function startMariadb(options: MariadbOptions = {}): Promise<MariadbServer> {
  const dir = makeServerDir();
  const user = serverUser();
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const errorLogPath = join(dir, 'error.log');
  try {
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        // a tmpdir of its own: a server starting up deletes #sql* files in its tmpdir, and tests
        // running side by side share /tmp (seen: "Could not remove temporary table" in CI)
        `--tmpdir=${dir}`,
        ...(user ? [`--user=${user.name}`] : []),
        '--auth-root-authentication-method=socket',
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    );
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw new Error(`mariadb-install-db failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  const errorLog = (): string => {
    try {
      return readFileSync(errorLogPath, 'utf8');
    } catch {
      return '';
    }
  };
  // Another test process may take the free port we picked before mariadbd binds it: retry.
  let started: Launched | undefined;
  for (let attempt = 1; !started; attempt++) {
    const port = await freePort();
    const args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--tmpdir=${dir}`,
      ...(user ? [`--user=${user.name}`] : []),
      `--socket=${socket}`,
      `--port=${port}`,
      `--bind-address=${options.bindAddress ?? '127.0.0.1'}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLogPath}`,
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--max-connections=400',
    ];
    if (options.tls) {
      args.push(`--ssl-cert=${options.tls.cert}`, `--ssl-key=${options.tls.key}`, `--ssl-ca=${options.tls.ca}`);
    }
    if (options.galera) args.push(...(await galeraArgs()));
    args.push(...(options.args ?? []));
    try {
      started = await launch(args, port, socket, options);
    } catch (err) {
      const log = errorLog().split('\n').slice(-15).join('\n');
      if (attempt < 3 && /already in use|Bind on TCP\/IP port/i.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
      throw new Error(`mariadbd did not start: ${(err as Error).message}\n${log}`);
    }
  }
  const { child, admin, port } = started;

  const server: MariadbServer = {
    host: options.bindAddress ?? '127.0.0.1',
    port,
    socket,
    dir,
    sql: async (statement, values) => (await admin.query(statement, values)) as Record<string, unknown>[],
    status: async (name) => {
      const rows = (await admin.query('SHOW GLOBAL STATUS LIKE ?', [name])) as { Value: string }[];
      return rows[0]?.Value ?? null;
    },
    errorLog,
    stop: async () => {
      await admin.end().catch(() => admin.destroy());
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await new Promise<void>((resolve) => child.once('exit', () => resolve()));
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  return server;
}

interface Launched {
  child: ChildProcess;
  admin: mariadb.Connection;
  port: number;
}

/** Starts mariadbd and waits for its socket to take logins; kills it if it does not. */
async function launch(args: string[], port: number, socket: string, options: MariadbOptions): Promise<Launched> {
  const child = options.netns
    ? spawn('ip', ['netns', 'exec', options.netns, 'mariadbd', ...args], { stdio: 'ignore' }) // ip execs mariadbd: same pid
    : spawn('mariadbd', args, { stdio: 'ignore' });
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  try {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const admin = await waitReady(socket, timeoutMs, () => exited);
    // A bootstrapped Galera node takes logins before it takes statements (ERR 1047 until then).
    if (options.galera) {
      await waitWsrepReady(admin, timeoutMs).catch((err) => {
        admin.destroy();
        throw err;
      });
    }
    return { child, admin, port };
  } catch (err) {
    child.kill('SIGKILL');
    if (!exited) await new Promise((resolve) => child.once('exit', resolve));
    throw err;
  }
}

async function waitReady(socket: string, timeoutMs: number, exited: () => boolean): Promise<mariadb.Connection> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    if (exited()) throw new Error('mariadbd exited');
    try {
      return await mariadb.createConnection({ socketPath: socket, user: 'root', connectTimeout: 2000, bigIntAsNumber: true });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`not ready within ${timeoutMs} ms (${(last as Error)?.message ?? 'no attempt'})`);
}

async function waitWsrepReady(admin: mariadb.Connection, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let state = 'unknown';
  while (Date.now() < until) {
    const rows = (await admin.query(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state')",
    )) as { Variable_name: string; Value: string }[];
    const status = Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
    state = `wsrep_ready=${status.wsrep_ready}, wsrep_local_state=${status.wsrep_local_state}`;
    if (status.wsrep_ready === 'ON' && status.wsrep_local_state === '4') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`galera node not ready within ${timeoutMs} ms (${state})`);
}

/** Galera bound to loopback ports only: group communication, IST and SST addresses. */
async function galeraArgs(): Promise<string[]> {
  const gmcast = await freePort();
  const ist = await freePort();
  const sst = await freePort();
  return [
    '--wsrep-on=ON',
    '--wsrep-provider=/usr/lib/galera/libgalera_smm.so',
    '--wsrep-cluster-address=gcomm://',
    '--wsrep-cluster-name=lvsd-test',
    `--wsrep-node-address=127.0.0.1:${gmcast}`,
    `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${gmcast};ist.recv_addr=127.0.0.1:${ist};gcache.size=16M`,
    `--wsrep-sst-receive-address=127.0.0.1:${sst}`,
    '--binlog-format=ROW',
    '--default-storage-engine=InnoDB',
    '--innodb-autoinc-lock-mode=2',
  ];
}
