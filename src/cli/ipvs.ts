// `lvsd ipvs ...`: the kernel IPVS table the way ipvsadm users know it. Text listings are
// byte-identical to ipvsadm 1.31's; every option keeps ipvsadm's name where there is one.
// Registration is cheap: the netlink client and the formatters load only inside the action
// that needs them, so `lvsd ipvs list --timeout` starts fast. They load with require(), not
// import(): TypeScript's import() adds a promise turn and a copy of the module's namespace.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { InputError, IpvsUnavailableError } from '../errors';
import { COMMAND_OPTIONS, SERVICE_IDENTITY_OPTIONS, SYNC_DAEMON_OPTIONS, type CommandKind, type OptionSpec } from '../ipvs/options';
import type { GivenOption } from '../ipvs/command';
import type { IpvsOp, RealServerSummary, ServiceKey, TableView, VirtualService } from '../ipvs/types';
import type { NetlinkIpvsClient } from '../ipvs/client';
import type { Namer } from '../ipvs/format/names';
import { writeOut } from './output';

type Opts = Record<string, string | boolean | undefined>;

// commander's key for a long option (tcp-service: tcpService)
function camel(long: string): string {
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const value = spec.arg === 'required' ? ` <${spec.argName ?? 'value'}>` : spec.arg === 'optional' ? ` [${spec.argName ?? 'value'}]` : '';
    const flags = spec.short ? `-${spec.short}, --${spec.long}${value}` : `--${spec.long}${value}`;
    cmd.addOption(new Option(flags, spec.description));
  }
  return cmd;
}

/** Turns commander's parsed options back into ipvsadm-style given options, named by long flag. */
function givenOptions(opts: Opts, specs: readonly OptionSpec[]): GivenOption[] {
  const out: GivenOption[] = [];
  for (const spec of specs) {
    const v = opts[camel(spec.long)];
    if (v === undefined || v === false) continue;
    out.push(v === true ? { long: spec.long, flag: `--${spec.long}` } : { long: spec.long, flag: `--${spec.long}`, value: v });
  }
  return out;
}

/** The option interpreter, loaded only when a command runs. */
function commands(): typeof import('../ipvs/command') {
  return require('../ipvs/command');
}

async function openClient(): Promise<NetlinkIpvsClient> {
  const { openIpvs } = require('../ipvs/client') as typeof import('../ipvs/client');
  return openIpvs();
}

async function withClient<T>(fn: (client: NetlinkIpvsClient) => Promise<T>): Promise<T> {
  const client = await openClient();
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function namerFor(numeric: boolean, addresses: () => Iterable<{ family: 'inet' | 'inet6'; address: string }>): Promise<Namer> {
  if (numeric) return (require('../ipvs/format/names') as typeof import('../ipvs/format/names')).numericNamer;
  return (require('../ipvs/format/resolve') as typeof import('../ipvs/format/resolve')).resolvingNamer(addresses());
}

function* tableAddresses(table: TableView<VirtualService, RealServerSummary>) {
  for (let i = 0; i < table.services.length; i++) {
    const key = table.services[i].key;
    if (key.address !== undefined) yield { family: key.family, address: key.address };
    for (const rs of table.realServers(i)) yield { family: rs.key.family, address: rs.key.address };
  }
}

// ---- list -----------------------------------------------------------------------------------

const LIST_VIEW_FLAGS = ['stats', 'rate', 'thresholds', 'persistentConn', 'tunInfo'] as const;

/** ipvsadm's LIST rules: -c, one service, --timeout and --daemon exclude each other and some columns. */
function checkListFlags(o: Opts, service: ServiceKey | undefined): void {
  const exclusive = [
    o.connection && '--connection',
    service && 'a service (-t/-u/--sctp-service/-f)',
    o.timeout && '--timeout',
    o.daemon && '--daemon',
  ].filter(Boolean);
  if (exclusive.length > 1) throw new InputError(`${exclusive[1]}: cannot be combined with ${exclusive[0]}`);
  const columns = ['stats', 'rate', 'thresholds'].filter((k) => o[k]);
  const other = o.connection ? '--connection' : o.timeout ? '--timeout' : o.daemon ? '--daemon' : undefined;
  if (other && columns.length > 0) throw new InputError(`--${columns[0]}: cannot be combined with ${other}`);
  if ((o.timeout || o.daemon) && o.persistentConn) throw new InputError(`--persistent-conn: cannot be combined with ${o.timeout ? '--timeout' : '--daemon'}`);
}

async function listConnections(o: Opts): Promise<void> {
  const { readFile } = require('node:fs/promises') as typeof import('node:fs/promises');
  let text: string;
  try {
    text = await readFile('/proc/net/ip_vs_conn', 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new IpvsUnavailableError();
    throw err;
  }
  const { parseConnections, formatConnections } = require('../ipvs/format/connections') as typeof import('../ipvs/format/connections');
  const conns = parseConnections(text);
  if (o.json) {
    const { connectionsJson, toJsonText } = require('../ipvs/format/json') as typeof import('../ipvs/format/json');
    return writeOut(toJsonText(connectionsJson(conns)));
  }
  const namer = await namerFor(Boolean(o.numeric), function* () {
    for (const c of conns) for (const e of [c.client, c.virtual, c.destination]) yield e;
  });
  writeOut(formatConnections(conns, namer, Boolean(o.persistentConn)));
}

async function listTimeouts(o: Opts): Promise<void> {
  const t = await withClient((c) => c.readTimeouts());
  if (o.json) {
    const { timeoutsJson, toJsonText } = require('../ipvs/format/json') as typeof import('../ipvs/format/json');
    return writeOut(toJsonText(timeoutsJson(t)));
  }
  writeOut((require('../ipvs/format/timeouts') as typeof import('../ipvs/format/timeouts')).formatTimeouts(t));
}

async function listDaemons(o: Opts): Promise<void> {
  const daemons = await withClient((c) => c.readSyncDaemons());
  if (o.json) {
    const { syncDaemonsJson, toJsonText } = require('../ipvs/format/json') as typeof import('../ipvs/format/json');
    return writeOut(toJsonText(syncDaemonsJson(daemons)));
  }
  writeOut((require('../ipvs/format/daemons') as typeof import('../ipvs/format/daemons')).formatSyncDaemons(daemons));
}

async function listTable(o: Opts, service: ServiceKey | undefined): Promise<void> {
  const sort = !o.nosort;
  if (o.json) {
    const { oneServiceJson, tableJson, toJsonText } = require('../ipvs/format/json') as typeof import('../ipvs/format/json');
    return writeOut(
      await withClient(async (c) => {
        if (service) return toJsonText(oneServiceJson(await c.listService(service), sort));
        const [info, entries] = await Promise.all([c.info(), c.listTable()]);
        return toJsonText(tableJson(info, entries, sort));
      }),
    );
  }
  const { listModeOf, tableView, writeOneService, writeTable } = require('../ipvs/format/table') as typeof import('../ipvs/format/table');
  const mode = listModeOf(o as Record<(typeof LIST_VIEW_FLAGS)[number], boolean | undefined>);
  const { info, table } = await withClient(async (c) => {
    if (service) return { info: undefined, table: tableView([await c.listService(service)]) };
    const [info, table] = await Promise.all([c.info(), mode === 'default' ? c.readListing({ counters: false }) : c.readListing()]);
    return { info, table };
  });
  const fmt = { mode, exact: Boolean(o.exact), sort, namer: await namerFor(Boolean(o.numeric), () => tableAddresses(table)) };
  writeOut(info ? writeTable(info, table, fmt) : writeOneService({ service: table.services[0], realServers: [...table.realServers(0)] }, fmt));
}

async function list(o: Opts): Promise<void> {
  // the option interpreter is a large module: a whole-table listing does not load it
  const given = givenOptions(o, SERVICE_IDENTITY_OPTIONS);
  const service = given.length > 0 ? commands().buildServiceKey(given) : undefined;
  checkListFlags(o, service);
  if (o.connection) return listConnections(o);
  if (o.timeout) return listTimeouts(o);
  if (o.daemon) return listDaemons(o);
  return listTable(o, service);
}

// ---- changes --------------------------------------------------------------------------------

/**
 * Sends one op the way every change goes (Ipvs.apply, as a restore line or a reconciler step
 * does) and throws its error in words when the kernel refuses it.
 */
function applyOne(op: IpvsOp): Promise<void> {
  const { applyOne: one } = require('../ipvs/helpers') as typeof import('../ipvs/helpers');
  return withClient((c) => one(c, op));
}

/** A table command from the words typed after its name: the same reader as restore's lines. */
function change(kind: CommandKind, words: readonly string[]): Promise<void> {
  return applyOne(commands().commandFromWords(kind, words));
}

/** The ipvsadm-style options of a command, for its --help (the words are read by command.ts, not commander). */
function optionsHelp(specs: readonly OptionSpec[]): string {
  const lines = specs.map((spec) => {
    const value = spec.arg === 'required' ? ` <${spec.argName ?? 'value'}>` : spec.arg === 'optional' ? ` [${spec.argName ?? 'value'}]` : '';
    return [`${spec.short ? `-${spec.short}, ` : '    '}--${spec.long}${value}`, spec.description];
  });
  const width = Math.max(...lines.map(([flags]) => flags.length));
  return `\nOptions (as ipvsadm's):\n${lines.map(([flags, text]) => `  ${flags.padEnd(width)}  ${text}`).join('\n')}\n`;
}

/** A command that takes ipvsadm-style options: commander passes the words through untouched. */
function ipvsadmCommand(parent: Command, name: string, summary: string, specs: readonly OptionSpec[]): Command {
  return parent
    .command(name)
    .description(summary)
    .usage('[ipvsadm options]')
    .argument('[ipvsadm-options...]', 'listed below')
    .allowUnknownOption()
    .addHelpText('after', optionsHelp(specs));
}

async function readStdin(): Promise<string> {
  // one synchronous read of fd 0 (a file or a pipe): no stream machinery to load and tick through
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- registration ---------------------------------------------------------------------------

const CHANGE_SUMMARIES: Record<Exclude<CommandKind, 'flush' | 'zero'>, string> = {
  'add-service': 'add a virtual service (ipvsadm -A)',
  'edit-service': 'edit a virtual service (ipvsadm -E); unset options take their defaults, as with ipvsadm',
  'delete-service': 'delete a virtual service (ipvsadm -D)',
  'add-server': 'add a real server to a service (ipvsadm -a)',
  'edit-server': 'edit a real server (ipvsadm -e); unset options take their defaults, as with ipvsadm',
  'delete-server': 'delete a real server (ipvsadm -d)',
};

export function register(program: Command): void {
  const ipvs = program.command('ipvs').description('list and program the kernel IPVS table (ipvsadm compatible)');

  addOptions(
    ipvs
      .command('list')
      .description('list the table (ipvsadm -L); without -n, addresses and ports are resolved to names')
      .option('-n, --numeric', 'numeric addresses and ports')
      .option('--stats', 'counters')
      .option('--rate', 'rates')
      .option('--thresholds', 'upper/lower thresholds')
      .option('--persistent-conn', 'persistent connections')
      .option('--tun-info', 'tunnel details')
      .option('--exact', 'exact numbers (no K/M/G/T)')
      .option('--nosort', 'kernel order instead of sorted')
      .option('--sort', 'sorted (the default; for ipvsadm compatibility)')
      .option('-c, --connection', 'connection entries (/proc/net/ip_vs_conn)')
      .option('--timeout', 'tcp tcpfin udp timeouts')
      .option('--daemon', 'sync daemons')
      .option('--json', 'JSON instead of ipvsadm text'),
    SERVICE_IDENTITY_OPTIONS,
  ).action((o: Opts) => list(o));

  const timeout = ipvs.command('timeout').description('connection timeouts (ipvsadm --set, -L --timeout)');
  timeout
    .command('set')
    .description('set tcp, tcpfin and udp timeouts in seconds; 0 keeps a value')
    .argument('<tcp>')
    .argument('<tcpfin>')
    .argument('<udp>')
    .action((tcp: string, tcpFin: string, udp: string) => applyOne({ kind: 'set-timeouts', timeouts: commands().buildTimeouts([tcp, tcpFin, udp]) }));
  timeout
    .command('get')
    .description('print the timeouts as ipvsadm -L --timeout does')
    .option('--json', 'JSON instead of text')
    .action((o: Opts) => listTimeouts(o));

  for (const [kind, summary] of Object.entries(CHANGE_SUMMARIES) as [CommandKind, string][]) {
    ipvsadmCommand(ipvs, kind, summary, COMMAND_OPTIONS[kind]).action((words: string[]) => change(kind, words));
  }
  ipvsadmCommand(ipvs, 'zero', 'zero the counters of one service, or of all (ipvsadm -Z)', COMMAND_OPTIONS.zero).action((words: string[]) => change('zero', words));
  ipvs
    .command('flush')
    .description('delete every virtual service (ipvsadm -C); needs --yes')
    .option('--yes', 'really delete every virtual service')
    .option('--all', 'same as --yes')
    .action(async (o: Opts) => {
      if (!o.yes && !o.all) throw new InputError('flush deletes every virtual service: add --yes to confirm');
      await applyOne({ kind: 'flush' });
    });

  ipvs
    .command('save')
    .description('print the table as ipvsadm -S rules')
    .option('-n, --numeric', 'numeric addresses and ports')
    .action(async (o: Opts) => {
      const entries = await withClient((c) => c.listTable());
      const { formatSave } = require('../ipvs/format/save') as typeof import('../ipvs/format/save');
      const { tableView } = require('../ipvs/format/table') as typeof import('../ipvs/format/table');
      writeOut(formatSave(entries, await namerFor(Boolean(o.numeric), () => tableAddresses(tableView(entries)))));
    });

  ipvs
    .command('restore')
    .description('read ipvsadm -R lines (what ipvsadm -S writes) from stdin; checks all first, applies in batches')
    .option('--batch-size <n>', 'commands encoded and sent per batch (a refused command stops the rest either way)', '65536')
    .action(async (o: Opts) => {
      const { applyRestore, parseRestore } = require('../ipvs/restore') as typeof import('../ipvs/restore');
      const batch = Number(o.batchSize);
      if (!Number.isInteger(batch) || batch < 1) throw new InputError(`--batch-size: '${o.batchSize}' is not a positive integer`);
      const lines = parseRestore(await readStdin());
      if (lines.length === 0) return;
      await withClient((c) => applyRestore(c, lines, batch));
    });

  const daemon = ipvs.command('daemon').description('connection sync daemons (ipvsadm --start-daemon, --stop-daemon, -L --daemon)');
  daemon
    .command('start')
    .description('start a master or backup sync daemon')
    .argument('<state>', 'master or backup')
    .usage('<state> [ipvsadm options]')
    .argument('[ipvsadm-options...]', 'listed below')
    .allowUnknownOption()
    .addHelpText('after', optionsHelp(SYNC_DAEMON_OPTIONS))
    .action((state: string, words: string[]) => {
      const { syncDaemonFromWords, parseSyncState } = commands();
      return applyOne({ kind: 'start-daemon', daemon: syncDaemonFromWords(parseSyncState('state', state), words) });
    });
  daemon
    .command('stop')
    .description('stop the master or backup sync daemon')
    .argument('<state>', 'master or backup')
    .action((state: string) => applyOne({ kind: 'stop-daemon', state: commands().parseSyncState('state', state) }));
  daemon
    .command('list')
    .description('print running sync daemons as ipvsadm -L --daemon does')
    .option('--json', 'JSON instead of text')
    .action((o: Opts) => listDaemons(o));
}
