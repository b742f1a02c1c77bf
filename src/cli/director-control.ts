// `lvsd director status|drain|enable|weight|reload`: talk to the running director over its control
// socket. These commands never open netlink: the director owns the kernel table.
// Exit status: 0 done, 1 refused or nothing matched (or no director), 2 usage error.
import { Command, CommanderError, Option } from 'commander';
import { InputError } from '../errors';
import type { ControlResult, DirectorStatus, ReloadResult } from '../director/api';
import { writeOut } from './output';

const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

interface SocketFlags {
  socket: string;
}

function client(): typeof import('../director/control-client') {
  return require('../director/control-client');
}

function socketOption(): Option {
  return new Option('-s, --socket <path>', "the director's control socket").default('/run/lvsd/director.sock');
}

/** Adds the control commands to `lvsd director`. */
export function registerControlCommands(director: Command): void {
  const usage = (cmd: Command): Command =>
    cmd.exitOverride((err) => {
      // commander's usage errors exit 2 like ours; --help stays 0
      if (err.exitCode === 0) throw err;
      throw new CommanderError(EXIT_USAGE, err.code, err.message);
    });

  usage(director.command('status'))
    .description('show services and servers with state, health, weights, connections and the last check (like ipvsadm -Ln)')
    .option('--json', 'print the DirectorStatus as JSON')
    .addOption(socketOption())
    .action(
      run(async (flags: SocketFlags & { json?: boolean }) => {
        const st = await client().status({ socket: flags.socket });
        writeOut(flags.json ? `${JSON.stringify(st, null, 2)}\n` : formatStatus(st, Date.now()));
      }),
    );

  usage(director.command('drain'))
    .description('set a server to weight 0 until enabled again (kept across reload and restart)')
    .argument('<server>', 'ADDR (every port), ADDR:PORT or [IPV6]:PORT')
    .option('--service <service>', "only in this service (its name or address as status shows it)")
    .addOption(socketOption())
    .action(run(async (server: string, flags: SocketFlags & { service?: string }) => result(await client().drain({ server, service: flags.service }, { socket: flags.socket }))));

  usage(director.command('enable'))
    .description('undo drain and weight overrides: the server gets its configured weight back')
    .argument('<server>', 'ADDR (every port), ADDR:PORT or [IPV6]:PORT')
    .option('--service <service>', "only in this service (its name or address as status shows it)")
    .addOption(socketOption())
    .action(run(async (server: string, flags: SocketFlags & { service?: string }) => result(await client().enable({ server, service: flags.service }, { socket: flags.socket }))));

  usage(director.command('weight'))
    .description("set a server's weight (0 to 65535) until enabled again (kept across reload and restart)")
    .argument('<server>', 'ADDR (every port), ADDR:PORT or [IPV6]:PORT')
    .argument('<weight>', 'an integer from 0 to 65535')
    .option('--service <service>', "only in this service (its name or address as status shows it)")
    .addOption(socketOption())
    .action(
      run(async (server: string, weight: string, flags: SocketFlags & { service?: string }) => {
        const { parseWeight } = require('../director/control') as typeof import('../director/control');
        const n = parseWeight(weight, 'WEIGHT');
        result(await client().weight({ server, service: flags.service }, n, { socket: flags.socket }));
      }),
    );

  usage(director.command('reload'))
    .description('validate the config again and apply only what changed (as SIGHUP does); errors are printed')
    .addOption(socketOption())
    .action(run(async (flags: SocketFlags) => reloadResult(await client().reload({ socket: flags.socket }))));
}

/** Bad input exits 2, everything else that failed exits 1; both print one line "lvsd: ...". */
function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`lvsd: ${(err as Error).message}\n`);
      process.exitCode = err instanceof InputError ? EXIT_USAGE : EXIT_REFUSED;
    }
  };
}

function result(r: ControlResult): void {
  if (r.ok) {
    writeOut(`${r.message}\n`);
  } else {
    process.stderr.write(`lvsd: ${r.message}\n`);
    process.exitCode = EXIT_REFUSED;
  }
}

function reloadResult(r: ReloadResult): void {
  if (r.ok) {
    writeOut(`reloaded: ${r.ops} IPVS operation${r.ops === 1 ? '' : 's'} applied\n`);
    return;
  }
  process.stderr.write(`lvsd: reload rejected, the running config keeps serving:\n${(r.errors ?? []).map((e) => `  ${e}\n`).join('')}`);
  process.exitCode = EXIT_REFUSED;
}

/** `ipvsadm -Ln` with the director's view beside each server: state, health, last check. */
export function formatStatus(st: DirectorStatus, now: number): string {
  const f = require('../director/page/format') as typeof import('../director/page/format');
  const lines: string[] = [];
  lines.push(`lvsd director ${st.version} (pid ${st.pid}), up ${f.since(st.startedAt, now)}; config ${st.config.path} loaded ${f.since(st.config.loadedAt, now)} ago`);
  if (st.lastReload) {
    lines.push(`last reload ${f.since(st.lastReload.at, now)} ago: ${st.lastReload.ok ? 'applied' : 'REJECTED, the previous config keeps serving'}`);
    for (const e of st.lastReload.errors ?? []) lines.push(`  ${e}`);
  }
  const r = st.reconcile;
  lines.push(
    `reconcile: last ${f.since(r.lastAt, now)} ago, ${r.lastOps} operations (${r.opsTotal} since start), ${r.failuresTotal} failures${r.lastError ? `; last error: ${r.lastError}` : ''}`,
  );
  for (const v of st.vrrp ?? []) {
    const prio = v.effectivePriority === v.priority ? `priority ${v.priority}` : `priority ${v.effectivePriority} (configured ${v.priority})`;
    let line = `vrrp ${v.name}: ${v.state.toUpperCase()} for ${f.since(v.since, now)}, vrid ${v.vrid} on ${v.interface} (VRRPv${v.version}), ${prio}, ${v.addresses.join(' ')}`;
    if (v.faults.length) line += `; fault: ${v.faults.join(', ')}`;
    line += `; ${f.vrrpCounters(v)}`;
    lines.push(line);
  }
  lines.push('Prot LocalAddress:Port Scheduler Flags');
  lines.push(`  -> ${'RemoteAddress:Port'.padEnd(28)} Forward Weight Cfg    ActiveConn InActConn  ${'State'.padEnd(11)} Health Since   Last check`);
  for (const svc of st.services) {
    const [proto, addr] = f.protoAndAddress(svc.address);
    let head = `${proto.padEnd(4)} ${addr} ${svc.scheduler}`;
    if (svc.persistence !== undefined) head += ` persistent ${svc.persistence}`;
    head += `  (${svc.name}; up weight ${svc.upWeight}`;
    if (svc.quorum) head += `, quorum ${svc.quorum.weight} ${svc.quorum.met ? 'met' : 'LOST'}`;
    if (svc.sorryServerActive) head += ', sorry server in use';
    head += ')';
    lines.push(head);
    if (svc.error) lines.push(`  !! kernel refused this service: ${svc.error}`);
    for (const s of svc.servers) {
      const check = f.telling(s);
      let tail = f.checkReason(check);
      if (check?.lastLatencyMs !== undefined) tail += ` (${f.latency(check)})`;
      const notes = [f.overrideText(s), s.kernelWeight === undefined ? 'not in kernel' : s.kernelWeight !== s.weight ? `kernel weight ${s.kernelWeight}` : '']
        .filter((x) => x)
        .join(', ');
      if (notes) tail += `  [${notes}]`;
      lines.push(
        `  -> ${s.name.padEnd(28)} ${f.forwardText(s.forward).padEnd(7)} ${String(s.weight).padEnd(6)} ${String(s.configuredWeight).padEnd(6)} ` +
          `${String(s.activeConns).padEnd(10)} ${String(s.inactiveConns).padEnd(10)} ${s.state.padEnd(11)} ${s.health.padEnd(6)} ` +
          `${f.since(s.lastTransitionAt, now).padEnd(7)} ${tail}`,
      );
    }
  }
  // reasons come from remote servers: no control character reaches the terminal
  return `${lines.map((l) => l.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')).join('\n')}\n`;
}
