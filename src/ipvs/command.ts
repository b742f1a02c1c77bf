// The one place where a set of given ipvsadm-style options (options.ts) becomes a typed IPVS
// command with ipvsadm's defaults and checks (ipvsadm.c parse_options,
// process_options, parse_service, parse_sched_flags, tunnel_opt_check). Both `lvsd ipvs restore`
// and the `lvsd ipvs add-service ...` commands build their commands here.
import { InputError } from '../errors';
import type {
  IpvsOp,
  Family,
  ForwardMethod,
  Protocol,
  RealServer,
  RealServerKey,
  ServiceKey,
  SyncDaemon,
  SyncDaemonState,
  Timeouts,
  TunnelChecksum,
  TunnelType,
  VirtualService,
} from './types';
import { canonicalAddress, formatIPv4, formatIPv6, isIPv4, parseAddress } from './address';
import {
  DEFAULT_PERSISTENCE_TIMEOUT,
  DEFAULT_SCHEDULER,
  MAX_TIMEOUT,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  SVC_F_SCHED1,
  SVC_F_SCHED2,
  SVC_F_SCHED3,
} from './flags';
import { portOfService } from './netdb';
import { COMMAND_OPTIONS, SYNC_DAEMON_OPTIONS, type CommandKind, type OptionSpec } from './options';

/** A command is one IPVS table change (Ipvs.apply takes a list of them). */
export type IpvsCommand = IpvsOp;

/** One option as the user gave it: its long name, the spelling used (for messages), its value. */
export interface GivenOption {
  long: string;
  flag: string;
  value?: string;
}

/** Options that exclude each other share a slot (one service, one forwarding method). */
const SLOT: Record<string, string> = {
  'tcp-service': 'service',
  'udp-service': 'service',
  'sctp-service': 'service',
  'fwmark-service': 'service',
  gatewaying: 'forward',
  ipip: 'forward',
  masquerading: 'forward',
};
const slotOf = (long: string): string => (Object.hasOwn(SLOT, long) ? SLOT[long] : long);

function fail(flag: string, message: string): never {
  throw new InputError(`${flag}: ${message}`);
}

/** ipvsadm's string_to_number: whole decimal integer within min..max. */
export function parseInteger(flag: string, text: string | undefined, min: number, max: number): number {
  if (text !== undefined && text.length > 0 && text.length <= 15 && allDigits(text)) {
    // the common case, plain digits, without the regular expressions below
    const n = Number(text);
    if (n < min || n > max) fail(flag, `${text} is out of range ${min}..${max}`);
    return n;
  }
  if (text === undefined || !/^[+-]?[0-9]+$/.test(text.trim()) || text.trim() !== text) {
    fail(flag, `'${text ?? ''}' is not a number`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(flag, `${text} is out of range ${min}..${max}`);
  return n;
}

function allDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export interface ParsedEndpoint {
  family: Family;
  address: string;
  port?: number;
}

/**
 * ipvsadm's parse_service: "198.18.0.1[:port]", "[2001:db8::1]:port" or a bare IPv6 address;
 * the port may be a service name from /etc/services. Host names are not resolved.
 */
export function parseEndpoint(flag: string, text: string, protocol: Protocol | undefined): ParsedEndpoint {
  return parseIPv4Endpoint(text) ?? parseAnyEndpoint(flag, text, protocol);
}

/**
 * The common shapes "198.18.0.1" and "198.18.0.1:80" (numeric port), else undefined. The text of
 * a valid dotted quad is already canonical (parseIPv4 takes no leading zeros), so no formatting.
 */
export function parseIPv4Endpoint(text: string): ParsedEndpoint | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return isIPv4(text) ? { family: 'inet', address: text, port: undefined } : undefined;
  const portText = text.slice(colon + 1);
  if (portText.length === 0 || portText.length > 5 || !allDigits(portText)) return undefined;
  const port = Number(portText);
  const host = text.slice(0, colon);
  if (port > 65535 || !isIPv4(host)) return undefined;
  return { family: 'inet', address: host, port };
}

/** Every shape ipvsadm takes (see parseEndpoint). */
export function parseAnyEndpoint(flag: string, text: string, protocol: Protocol | undefined): ParsedEndpoint {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') fail(flag, `'${text}' is not [IPv6-address]:port`);
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!parseAddress(host) || parseAddress(host)!.family !== 'inet6') fail(flag, `'${host}' is not an IPv6 address`);
  } else if (!parseAddress(text)) {
    const colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  const addr = parseAddress(host);
  if (!addr) fail(flag, `'${host}' is not an IP address (host names are not resolved)`);
  let port: number | undefined;
  if (portText !== undefined) {
    if (/^[0-9]+$/.test(portText)) port = parseInteger(flag, portText, 0, 65535);
    else {
      port = protocol ? portOfService(portText, protocol) : undefined;
      if (port === undefined) fail(flag, `'${portText}' is not a port number or known service name`);
    }
  }
  return { family: addr.family, address: addr.family === 'inet' ? formatIPv4(addr.bytes) : formatIPv6(addr.bytes), port };
}

function schedulerName(flag: string, text: string): string {
  if (!/^[a-z0-9_-]{1,15}$/i.test(text)) fail(flag, `'${text}' is not a scheduler name`);
  return text;
}

/** ipvsadm's parse_sched_flags. */
export function parseSchedulerFlags(flag: string, text: string, scheduler: string): number {
  let flags = 0;
  for (const name of text.split(',')) {
    if (name === 'flag-1') flags |= SVC_F_SCHED1;
    else if (name === 'flag-2') flags |= SVC_F_SCHED2;
    else if (name === 'flag-3') flags |= SVC_F_SCHED3;
    else if (/^(sh|mh)-(fallback|port)$/.test(name)) {
      const [sched, what] = name.split('-');
      if (scheduler !== sched) fail(flag, `scheduler flag '${name}' needs scheduler ${sched}, not ${scheduler}`);
      flags |= what === 'fallback' ? SVC_F_SCHED1 : SVC_F_SCHED2;
    } else fail(flag, `unknown scheduler flag '${name}' (sh-fallback, sh-port, mh-fallback, mh-port, flag-1, flag-2, flag-3)`);
  }
  return flags;
}

// the allowed-option lists are a few constant arrays; a restore checks 50,000 commands against them
const KNOWN: ReadonlyMap<readonly OptionSpec[], ReadonlySet<string>> = new Map(
  [...Object.values(COMMAND_OPTIONS), SYNC_DAEMON_OPTIONS].map((list) => [list, new Set(list.map((o) => o.long))]),
);
function knownLongs(allowed: readonly OptionSpec[]): ReadonlySet<string> {
  return KNOWN.get(allowed) ?? new Set(allowed.map((o) => o.long));
}

// A command has a handful of options: plain scans of the list beat maps built per command.
class Given {
  constructor(
    private readonly options: readonly GivenOption[],
    allowed: readonly OptionSpec[],
    command: string,
  ) {
    const known = knownLongs(allowed);
    for (let i = 0; i < options.length; i++) {
      const o = options[i];
      if (!known.has(o.long)) fail(o.flag, `not an option of ${command}`);
      const slot = slotOf(o.long);
      for (let j = 0; j < i; j++) {
        const earlier = options[j];
        if (slotOf(earlier.long) === slot) fail(o.flag, earlier.long === o.long ? 'given more than once' : `conflicts with ${earlier.flag}`);
      }
    }
  }
  get(long: string): GivenOption | undefined {
    // indexed loops here and below: a restore runs them 50,000 times, mostly before V8 optimizes
    for (let i = 0; i < this.options.length; i++) if (this.options[i].long === long) return this.options[i];
    return undefined;
  }
  has(long: string): boolean {
    return this.get(long) !== undefined;
  }
}

const SERVICE_PROTOCOLS = [
  ['tcp-service', 'tcp'],
  ['udp-service', 'udp'],
  ['sctp-service', 'sctp'],
] as const;

function serviceKeyOf(g: Given, required: boolean): ServiceKey | undefined {
  const fw = g.get('fwmark-service');
  const v6 = g.get('ipv6');
  if (fw) {
    // ipvsadm -S writes marks above 2^31-1 as negative numbers: read those back as unsigned
    const mark = parseInteger(fw.flag, fw.value, -0x80000000, 0xffffffff);
    if (mark === 0) fail(fw.flag, 'the mark must not be 0');
    return { family: v6 ? 'inet6' : 'inet', fwmark: mark >>> 0 };
  }
  if (v6) fail(v6.flag, 'only goes with -f/--fwmark-service (for addresses the family comes from the address)');
  for (let i = 0; i < SERVICE_PROTOCOLS.length; i++) {
    const long = SERVICE_PROTOCOLS[i][0];
    const protocol = SERVICE_PROTOCOLS[i][1];
    const o = g.get(long);
    if (!o) continue;
    const e = parseEndpoint(o.flag, o.value ?? '', protocol);
    return { family: e.family, protocol, address: e.address, port: e.port ?? 0 };
  }
  if (required) throw new InputError('a virtual service is required: -t, -u, --sctp-service or -f');
  return undefined;
}

function requiredServiceKey(g: Given): ServiceKey {
  return serviceKeyOf(g, true)!;
}

function buildService(g: Given): VirtualService {
  const key = requiredServiceKey(g);
  const sched = g.get('scheduler');
  const scheduler = sched ? schedulerName(sched.flag, sched.value ?? '') : DEFAULT_SCHEDULER;
  let flags = 0;
  let timeout = 0;
  const p = g.get('persistent');
  if (p) {
    flags |= SVC_F_PERSISTENT;
    timeout = p.value === undefined ? DEFAULT_PERSISTENCE_TIMEOUT : parseInteger(p.flag, p.value, 1, MAX_TIMEOUT);
  }
  let netmask: string | number = key.family === 'inet' ? '255.255.255.255' : 128;
  const m = g.get('netmask');
  if (m) {
    if (key.family === 'inet6') netmask = parseInteger(m.flag, m.value, 1, 128);
    else {
      const a = parseAddress(m.value ?? '');
      if (!a || a.family !== 'inet') fail(m.flag, `'${m.value}' is not an IPv4 netmask`);
      netmask = canonicalAddress('inet', m.value!);
    }
  }
  const pe = g.get('pe');
  if (pe && !/^[a-z0-9_-]{1,15}$/i.test(pe.value ?? '')) fail(pe.flag, `'${pe.value}' is not a persistence engine name`);
  const o = g.get('ops');
  if (o) {
    if (key.fwmark === undefined && key.protocol !== 'udp') fail(o.flag, 'one-packet scheduling is only for UDP and fwmark services');
    flags |= SVC_F_ONEPACKET;
  }
  const b = g.get('sched-flags');
  if (b) flags |= parseSchedulerFlags(b.flag, b.value ?? '', scheduler);
  if (key.fwmark === undefined && key.port === 0 && !(flags & SVC_F_PERSISTENT)) {
    throw new InputError('port 0 is only allowed for a persistent service (-p)');
  }
  const svc: VirtualService = { key, scheduler, flags, timeout, netmask };
  if (pe) svc.persistenceEngine = pe.value;
  return svc;
}

function realServerKeyOf(g: Given, svc: ServiceKey): RealServerKey {
  const r = g.get('real-server');
  if (!r) throw new InputError('a real server is required: -r/--real-server');
  const e = parseEndpoint(r.flag, r.value ?? '', svc.protocol);
  return { family: e.family, address: e.address, port: e.port ?? (svc.port ?? 0) };
}

const TUNNEL_TYPES: readonly TunnelType[] = ['ipip', 'gue', 'gre'];
const TUNNEL_OPTIONS = ['tun-type', 'tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];

function buildRealServer(g: Given, svc: ServiceKey): RealServer {
  const key = realServerKeyOf(g, svc);
  const forward: ForwardMethod = g.has('masquerading') ? 'masq' : g.has('ipip') ? 'tunnel' : 'route';
  // DR and tunnels cannot change the port: the kernel forwards to the service's port
  if (svc.fwmark === undefined && forward !== 'masq') key.port = svc.port ?? 0;
  if (key.family !== svc.family && forward !== 'tunnel') {
    throw new InputError(`${g.get('real-server')!.flag}: a real server of another address family needs tunneling (-i)`);
  }
  const w = g.get('weight');
  const x = g.get('u-threshold');
  const y = g.get('l-threshold');
  const rs: RealServer = {
    key,
    forward,
    weight: w ? parseInteger(w.flag, w.value, 0, 65535) : 1,
    upperThreshold: x ? parseInteger(x.flag, x.value, 0, 2147483647) : 0,
    lowerThreshold: y ? parseInteger(y.flag, y.value, 0, 2147483647) : 0,
  };
  if (forward !== 'tunnel') {
    for (let i = 0; i < TUNNEL_OPTIONS.length; i++) {
      const o = g.get(TUNNEL_OPTIONS[i]);
      if (o) fail(o.flag, 'tunnel options need tunneling (-i)');
    }
    return rs;
  }
  const t = g.get('tun-type');
  const type = (t?.value ?? 'ipip') as TunnelType;
  if (!TUNNEL_TYPES.includes(type)) fail(t!.flag, `'${t!.value}' is not a tunnel type (ipip, gue, gre)`);
  const port = g.get('tun-port');
  const checksums = (['tun-nocsum', 'tun-csum', 'tun-remcsum'] as const).map((l) => g.get(l)).filter((o) => o !== undefined);
  if (type === 'ipip') {
    const extra = port ?? checksums[0];
    if (extra) fail(extra.flag, 'not an option of the ipip tunnel type');
  }
  if (type === 'gre') {
    if (port) fail(port.flag, 'not an option of the gre tunnel type');
    const rem = g.get('tun-remcsum');
    if (rem) fail(rem.flag, 'not an option of the gre tunnel type');
  }
  if (type === 'gue' && !port) throw new InputError('--tun-port: required with --tun-type gue');
  if (checksums.length > 1) fail(checksums[1]!.flag, `conflicts with ${checksums[0]!.flag}`);
  rs.tunnelType = type;
  if (port) rs.tunnelPort = parseInteger(port.flag, port.value, 1, 65535);
  if (type !== 'ipip') rs.tunnelChecksum = checksums[0] ? (checksums[0].long.slice(4) as TunnelChecksum) : 'nocsum';
  return rs;
}

/** Builds one IPVS command from the options given, with ipvsadm's defaults; throws InputError naming the flag. */
export function buildCommand(kind: CommandKind, options: readonly GivenOption[]): IpvsCommand {
  const g = new Given(options, COMMAND_OPTIONS[kind], kind);
  switch (kind) {
    case 'add-service':
    case 'edit-service':
      return { kind, service: buildService(g) };
    case 'delete-service':
      return { kind, service: requiredServiceKey(g) };
    case 'add-server':
    case 'edit-server': {
      const service = requiredServiceKey(g);
      return { kind, service, server: buildRealServer(g, service) };
    }
    case 'delete-server': {
      const service = requiredServiceKey(g);
      return { kind, service, server: realServerKeyOf(g, service) };
    }
    case 'zero': {
      const service = serviceKeyOf(g, false);
      return service ? { kind, service } : { kind };
    }
    case 'flush':
      return { kind };
  }
}

/** The virtual service named by -t/-u/--sctp-service/-f [-6], if any (as `ipvsadm -L` takes it). */
export function buildServiceKey(options: readonly GivenOption[]): ServiceKey | undefined {
  return serviceKeyOf(new Given(options, COMMAND_OPTIONS.zero, 'list'), false);
}

/** ipvsadm --set TCP TCPFIN UDP: seconds 0..31 days, 0 keeps the current value. */
export function buildTimeouts(values: readonly string[], names = ['TCP', 'TCPFIN', 'UDP']): Timeouts {
  if (values.length !== 3) throw new InputError(`timeouts: expected 3 values (${names.join(' ')}), got ${values.length}`);
  const [tcp, tcpFin, udp] = values.map((v, i) => parseInteger(names[i], v, 0, MAX_TIMEOUT));
  return { tcp, tcpFin, udp };
}

/** ipvsadm's default --mcast-interface (DEF_MCAST_IFN). */
export const DEFAULT_MCAST_INTERFACE = 'eth0';

export function parseSyncState(flag: string, text: string): SyncDaemonState {
  if (text !== 'master' && text !== 'backup') fail(flag, `'${text}' is not master or backup`);
  return text;
}

function isMulticast(bytes: Uint8Array, family: Family): boolean {
  return family === 'inet' ? (bytes[0] & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/** ipvsadm --start-daemon: fields left out get ipvsadm's (or the kernel's) defaults. */
export function buildSyncDaemon(state: SyncDaemonState, options: readonly GivenOption[]): SyncDaemon {
  const g = new Given(options, SYNC_DAEMON_OPTIONS, 'daemon start');
  const ifn = g.get('mcast-interface');
  if (ifn && !/^[^\s/:]{1,15}$/.test(ifn.value ?? '')) fail(ifn.flag, `'${ifn.value}' is not an interface name (1..15 characters)`);
  const d: SyncDaemon = { state, mcastInterface: ifn?.value ?? DEFAULT_MCAST_INTERFACE, syncId: 0 };
  const id = g.get('syncid');
  if (id) d.syncId = parseInteger(id.flag, id.value, 0, 255);
  const maxlen = g.get('sync-maxlen');
  if (maxlen) d.maxLength = parseInteger(maxlen.flag, maxlen.value, 1, 65535 - 20 - 8);
  const group = g.get('mcast-group');
  if (group) {
    const a = parseAddress(group.value ?? '');
    if (!a || !isMulticast(a.bytes, a.family)) fail(group.flag, `'${group.value}' is not an IPv4 or IPv6 multicast address`);
    d.mcastGroup = canonicalAddress(a.family, group.value!);
  }
  const port = g.get('mcast-port');
  if (port) d.mcastPort = parseInteger(port.flag, port.value, 1, 65535);
  const ttl = g.get('mcast-ttl');
  if (ttl) d.mcastTtl = parseInteger(ttl.flag, ttl.value, 1, 255);
  return d;
}

// ---- words -> options: the one reader of ipvsadm-style arguments (the CLI's and restore's) ----

/** Every option of the table commands, by long name and by short letter. */
const ALL_OPTIONS: readonly OptionSpec[] = [...new Map([...Object.values(COMMAND_OPTIONS).flat(), ...SYNC_DAEMON_OPTIONS].map((o) => [o.long, o])).values()];
const BY_LONG: ReadonlyMap<string, OptionSpec> = new Map(ALL_OPTIONS.map((o) => [o.long, o]));
const BY_SHORT: ReadonlyMap<string, OptionSpec> = new Map(ALL_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

/**
 * Adds option `spec` (spelled `flag`) to `options`, its value inline or taken from words[i + 1];
 * returns the index of the last word used.
 */
function takeOption(words: readonly string[], i: number, options: GivenOption[], spec: OptionSpec, flag: string, inline: string | undefined): number {
  if (spec.arg === 'none') {
    if (inline !== undefined) throw new InputError(`${flag}: takes no value`);
    options.push({ long: spec.long, flag });
    return i;
  }
  if (inline !== undefined) {
    options.push({ long: spec.long, flag, value: inline });
    return i;
  }
  const next = words[i + 1];
  // -p's timeout is optional: as with popt, a following word that is not an option is its value
  if (spec.arg === 'optional' && (next === undefined || next.startsWith('-'))) {
    options.push({ long: spec.long, flag });
    return i;
  }
  if (next === undefined) throw new InputError(`${flag}: needs a value (${spec.argName ?? 'value'})`);
  options.push({ long: spec.long, flag, value: next });
  return i + 1;
}

const NO_WORDS: readonly string[] = Object.freeze([]);

/**
 * Reads ipvsadm-style options from words[from..]: long (--x, --x=v), short (-x v, -xv), bundled
 * (-gw 2); other words are positional. Which options a command takes is buildCommand's to say.
 */
export function readOptions(words: readonly string[], from = 0): { options: GivenOption[]; positional: readonly string[] } {
  const options: GivenOption[] = [];
  let positional: string[] | undefined; // a table command has none: no array per restore line
  for (let i = from; i < words.length; i++) {
    const w = words[i];
    if (w.length === 2 && w.charCodeAt(0) === 45 /* - */ && w.charCodeAt(1) !== 45) {
      // the common case: one short option, "-t"
      const spec = BY_SHORT.get(w[1]);
      if (!spec) throw new InputError(`${w}: unknown option`);
      i = takeOption(words, i, options, spec, w, undefined);
    } else if (w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=');
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      const spec = BY_LONG.get(name);
      if (!spec) throw new InputError(`--${name}: unknown option`);
      i = takeOption(words, i, options, spec, `--${name}`, eq < 0 ? undefined : w.slice(eq + 1));
    } else if (w.startsWith('-') && w.length > 1) {
      for (let j = 1; j < w.length; j++) {
        const spec = BY_SHORT.get(w[j]);
        if (!spec) throw new InputError(`-${w[j]}: unknown option`);
        const rest = w.slice(j + 1);
        if (spec.arg !== 'none' && rest !== '') {
          i = takeOption(words, i, options, spec, `-${w[j]}`, rest);
          break;
        }
        i = takeOption(words, i, options, spec, `-${w[j]}`, undefined);
      }
    } else {
      (positional ??= []).push(w);
    }
  }
  return { options, positional: positional ?? NO_WORDS };
}

/** A table command from its words as typed (`lvsd ipvs add-service -t 198.18.0.10:80 -s rr`). */
export function commandFromWords(kind: CommandKind, words: readonly string[]): IpvsCommand {
  const { options, positional } = readOptions(words);
  if (positional.length > 0) throw new InputError(`unexpected argument '${positional[0]}'`);
  return buildCommand(kind, options);
}

/** A sync daemon from its words as typed (`lvsd ipvs daemon start master --syncid 7`). */
export function syncDaemonFromWords(state: SyncDaemonState, words: readonly string[]): SyncDaemon {
  const { options, positional } = readOptions(words);
  if (positional.length > 0) throw new InputError(`unexpected argument '${positional[0]}'`);
  return buildSyncDaemon(state, options);
}
