// The `vrrp:` section of the director's config: floating virtual addresses between two or more
// directors (keepalived's vrrp_instance, vrrp_sync_group and vrrp_script), validated here and
// normalised to ms, canonical addresses and explicit defaults.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { PasswordSource } from '../health/mysql/credentials';
import { Duration, StringEnum, defined, strictObject, type LoadOptions } from './checks';
import { Problems, canonicalAddress, durationMs, secretFileProblem, type Path } from './validate';

const InterfaceName = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9_.:@-]{1,15}$', errorMessage: 'must be an interface name (1-15 characters of A-Z a-z 0-9 _ . : @ -)', description });

const Name = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', errorMessage: 'must be a name of 1-64 characters of A-Z a-z 0-9 _ . -' });

const TrackWeight = Type.Integer({ minimum: -254, maximum: 254 });

const Script = strictObject(
  {
    exec: Type.String({ minLength: 1, description: 'program and arguments, split at spaces ("..." keeps spaces), no shell; a bare name is looked up in /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (as keepalived does)' }),
    interval: Duration({ default: '1s' }),
    timeout: Type.Optional(Duration({ description: 'default: the interval' })),
    weight: Type.Integer({ minimum: -254, maximum: 254, default: 0, description: 'failing with weight 0: FAULT; negative: added to the priority while failing; positive: added while passing' }),
    rise: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    fall: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    user: Type.Optional(Type.String({ minLength: 1, description: 'run the program as this user' })),
  },
  { description: 'a tracking script (keepalived vrrp_script)' },
);

const VirtualAddress = Type.Union([
  Type.String({ minLength: 1, description: 'ADDRESS or ADDRESS/PREFIX (IPv4 default /32, IPv6 /128)' }),
  strictObject({
    address: Type.String({ minLength: 1 }),
    prefix: Type.Optional(Type.Integer({ minimum: 0, maximum: 128 })),
    label: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,15}$', errorMessage: 'must be a label such as eth0:1 (at most 15 characters)' })),
  }),
]);

const Instance = strictObject(
  {
    name: Name,
    interface: InterfaceName('the interface the adverts go out on and the addresses are added to'),
    vrid: Type.Integer({ minimum: 1, maximum: 255, description: 'virtual router id (keepalived virtual_router_id)' }),
    priority: Type.Integer({ minimum: 1, maximum: 255, default: 100, description: '255: this host owns the addresses' }),
    advert_interval: Duration({ default: '1s', description: 'VRRPv2: whole seconds; VRRPv3: steps of 10 ms' }),
    version: Type.Optional(Type.Union([Type.Literal(2), Type.Literal(3)], { description: 'default: vrrp.version; IPv6 is always 3' })),
    state: StringEnum(['backup', 'master'] as const, { default: 'backup', description: 'initial state' }),
    preempt: Type.Boolean({ default: true, description: 'false: keepalived nopreempt' }),
    preempt_delay: Duration({ default: 0, description: 'after start, wait this long before preempting a lower-priority master' }),
    addresses: Type.Array(VirtualAddress, { minItems: 1, description: 'the virtual addresses (keepalived virtual_ipaddress); one family' }),
    unicast_source: Type.Optional(Type.String({ minLength: 1 })),
    unicast_peers: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'send to these instead of multicast' }),
    track_interfaces: Type.Array(Type.Union([InterfaceName('interface'), strictObject({ name: InterfaceName('interface'), weight: TrackWeight })]), {
      default: [],
      description: 'down with weight 0 (the default): FAULT; else the weight is added to the priority while down',
    }),
    track_scripts: Type.Array(Type.Union([Name, strictObject({ name: Name, weight: TrackWeight })]), { default: [], description: 'names of vrrp.scripts; a weight here overrides the script\'s' }),
    track_services: Type.Array(strictObject({ service: Type.String({ minLength: 1 }), weight: TrackWeight }), {
      default: [],
      description: "a service below its quorum: weight 0 = FAULT, else the weight is added to the priority",
    }),
    notify: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with an absolute path' , description: 'run on every state change with: INSTANCE <name> <STATE> <priority>' })),
    // where the VRRPv2 password is, as for a MySQL check's password: never inline
    auth_pass_file: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'VRRPv2 simple password authentication (keepalived auth_type PASS / auth_pass): file holding the password (one trailing newline ignored; only its first 8 bytes are used, as keepalived); must not be readable by group or others',
      }),
    ),
    auth_pass_env: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', errorMessage: 'must be an environment variable name', description: 'as auth_pass_file, from this environment variable' })),
    auth_pass_credential: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]+$', errorMessage: 'must be a systemd credential name', description: 'as auth_pass_file, from this systemd credential (LoadCredential=)' })),
  },
  { description: 'a VRRP instance (keepalived vrrp_instance)' },
);

const SyncGroup = strictObject(
  {
    name: Name,
    instances: Type.Array(Name, { minItems: 2, uniqueItems: true }),
    notify: Type.Optional(Type.String({ pattern: '^/', errorMessage: 'must start with an absolute path' , description: 'run on every state change with: GROUP <name> <STATE> 0' })),
  },
  { description: 'instances that change state together (keepalived vrrp_sync_group)' },
);

export const VrrpSchema = strictObject(
  {
    version: Type.Union([Type.Literal(2), Type.Literal(3)], { default: 2, description: 'VRRP version of IPv4 instances (keepalived vrrp_version)' }),
    scripts: Type.Record(Name, Script, { default: {}, additionalProperties: false, errorMessage: 'must map script names (A-Z a-z 0-9 _ . -) to scripts' }),
    instances: Type.Array(Instance, { minItems: 1 }),
    sync_groups: Type.Array(SyncGroup, { default: [] }),
  },
  { description: 'director failover: VRRP instances that move the virtual addresses (keepalived vrrp_*)' },
);

export type VrrpFile = Static<typeof VrrpSchema>;

// ---- normalised ----

export interface VrrpScriptConfig {
  name: string;
  path: string;
  args: string[];
  intervalMs: number;
  timeoutMs: number;
  weight: number;
  rise: number;
  fall: number;
  user?: string;
}

export interface VrrpAddressConfig {
  address: string;
  family: 4 | 6;
  prefix: number;
  label?: string;
}

export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  version: 2 | 3;
  family: 4 | 6;
  initialState: 'backup' | 'master';
  preempt: boolean;
  preemptDelayMs: number;
  addresses: VrrpAddressConfig[];
  unicastSource?: string;
  unicastPeers: string[];
  trackInterfaces: { name: string; weight: number }[];
  trackScripts: { name: string; weight: number }[];
  trackServices: { service: string; weight: number }[];
  notify?: string;
  /** VRRPv2 simple password (auth type 1): where the password is, never the password itself */
  authPass?: PasswordSource;
}

export interface VrrpConfig {
  scripts: VrrpScriptConfig[];
  instances: VrrpInstanceConfig[];
  syncGroups: { name: string; instances: string[]; notify?: string }[];
}

/** `serviceNames`: the config's service names, for track_services. */
export function normaliseVrrp(v: VrrpFile, serviceNames: ReadonlySet<string>, problems: Problems, options: LoadOptions = {}): VrrpConfig {
  const at: Path = ['vrrp'];
  const scripts: VrrpScriptConfig[] = [];
  for (const [name, s] of Object.entries(v.scripts)) {
    const path = [...at, 'scripts', name];
    const argv = splitCommand(s.exec);
    if (typeof argv === 'string') problems.add([...path, 'exec'], argv);
    const intervalMs = positive(s.interval, [...path, 'interval'], problems);
    const timeoutMs = s.timeout === undefined ? intervalMs : positive(s.timeout, [...path, 'timeout'], problems);
    if (typeof argv === 'string' || intervalMs === undefined || timeoutMs === undefined) continue;
    scripts.push({ name, path: argv[0], args: argv.slice(1), intervalMs, timeoutMs, weight: s.weight, rise: s.rise, fall: s.fall, ...defined({ user: s.user }) });
  }

  const instances: VrrpInstanceConfig[] = [];
  const byName = new Map<string, number>();
  const vrids = new Map<string, number>();
  v.instances.forEach((raw, i) => {
    const path = [...at, 'instances', i];
    const dup = byName.get(raw.name);
    if (dup !== undefined) problems.add([...path, 'name'], `duplicate instance name "${raw.name}" (also vrrp.instances[${dup}])`);
    else byName.set(raw.name, i);

    const addresses: VrrpAddressConfig[] = [];
    raw.addresses.forEach((a, j) => {
      const parsed = virtualAddress(a, [...path, 'addresses', j], problems);
      if (parsed) addresses.push(parsed);
    });
    const families = new Set(addresses.map((a) => a.family));
    if (families.size > 1) problems.add([...path, 'addresses'], 'mixes IPv4 and IPv6: one instance carries one family (use two instances in a sync group)');
    const family = addresses[0]?.family ?? 4;
    if (raw.version === 2 && family === 6) problems.add([...path, 'version'], 'VRRPv2 is IPv4 only; IPv6 addresses need version 3');
    const version = family === 6 ? 3 : (raw.version ?? v.version);

    const key = `${raw.interface} ${family} ${raw.vrid}`;
    const clash = vrids.get(key);
    if (clash !== undefined) problems.add([...path, 'vrid'], `vrid ${raw.vrid} on ${raw.interface} (IPv${family}) is also vrrp.instances[${clash}]`);
    else vrids.set(key, i);

    const advertIntervalMs = positive(raw.advert_interval, [...path, 'advert_interval'], problems) ?? 1000;
    if (version === 2 && advertIntervalMs % 1000 !== 0) problems.add([...path, 'advert_interval'], 'VRRPv2 counts whole seconds (use version: 3 for shorter intervals)');
    if (version === 2 && advertIntervalMs > 255_000) problems.add([...path, 'advert_interval'], 'VRRPv2 allows at most 255s');
    if (version === 3 && (advertIntervalMs % 10 !== 0 || advertIntervalMs > 40_950)) problems.add([...path, 'advert_interval'], 'VRRPv3 counts steps of 10 ms up to 40.95s');
    const preemptDelayMs = durationMs(raw.preempt_delay) ?? 0;
    if (preemptDelayMs > 0 && !raw.preempt) problems.add([...path, 'preempt_delay'], 'has no effect with preempt: false');
    if (raw.state === 'master' && raw.priority !== 255 && !raw.preempt) {
      // a master at start would take the addresses from the running master anyway
      problems.add([...path, 'state'], "state: master with preempt: false: use state: backup (keepalived's nopreempt needs initial state BACKUP too)");
    }

    let unicastSource: string | undefined;
    if (raw.unicast_source !== undefined) unicastSource = hostAddress(raw.unicast_source, family, [...path, 'unicast_source'], problems);
    const unicastPeers: string[] = [];
    raw.unicast_peers.forEach((p, j) => {
      const peer = hostAddress(p, family, [...path, 'unicast_peers', j], problems);
      if (peer) unicastPeers.push(peer);
    });
    if (unicastSource && unicastPeers.length === 0) problems.add([...path, 'unicast_source'], 'is used only with unicast_peers');

    const trackInterfaces = raw.track_interfaces.map((t) => (typeof t === 'string' ? { name: t, weight: 0 } : t));
    const trackScripts = raw.track_scripts.map((t, j) => {
      const name = typeof t === 'string' ? t : t.name;
      const script = v.scripts[name];
      if (!script) problems.add([...path, 'track_scripts', j], `"${name}" is not one of vrrp.scripts${Object.keys(v.scripts).length ? ` (${Object.keys(v.scripts).join(', ')})` : ''}`);
      return { name, weight: typeof t === 'string' ? (script?.weight ?? 0) : t.weight };
    });
    raw.track_services.forEach((t, j) => {
      if (!serviceNames.has(t.service)) problems.add([...path, 'track_services', j, 'service'], `"${t.service}" is not the name of a service in this config`);
    });

    const authPass = authPassOf(raw, version, path, problems, options);

    instances.push({
      name: raw.name,
      interface: raw.interface,
      vrid: raw.vrid,
      priority: raw.priority,
      advertIntervalMs,
      version,
      family,
      initialState: raw.state,
      preempt: raw.preempt,
      preemptDelayMs,
      addresses,
      ...defined({ unicastSource, notify: raw.notify, authPass }),
      unicastPeers,
      trackInterfaces,
      trackScripts,
      trackServices: raw.track_services.map((t) => ({ service: t.service, weight: t.weight })),
    });
  });

  const grouped = new Map<string, string>();
  const syncGroups: VrrpConfig['syncGroups'] = [];
  v.sync_groups.forEach((g, i) => {
    const path = [...at, 'sync_groups', i];
    g.instances.forEach((name, j) => {
      if (!byName.has(name)) problems.add([...path, 'instances', j], `"${name}" is not one of vrrp.instances`);
      const other = grouped.get(name);
      if (other !== undefined) problems.add([...path, 'instances', j], `"${name}" is already in sync group "${other}"`);
      else grouped.set(name, g.name);
    });
    syncGroups.push({ name: g.name, instances: [...g.instances], ...defined({ notify: g.notify }) });
  });

  return { scripts, instances, syncGroups };
}

/** auth_pass_file / _env / _credential: one of them, and only with VRRPv2 (RFC 5798 removed authentication). */
function authPassOf(raw: VrrpFile['instances'][number], version: 2 | 3, path: Path, problems: Problems, options: LoadOptions): PasswordSource | undefined {
  const keys = (['auth_pass_file', 'auth_pass_env', 'auth_pass_credential'] as const).filter((k) => raw[k] !== undefined);
  if (keys.length === 0) return undefined;
  if (keys.length > 1) {
    problems.add([...path, keys[1]], `give one of ${keys.join(', ')}, not several`);
    return undefined;
  }
  if (version !== 2) {
    problems.add([...path, keys[0]], 'VRRPv3 has no authentication (RFC 5798 removed it; keepalived ignores it too): remove it, or use version: 2 on IPv4 on both peers');
    return undefined;
  }
  if (raw.auth_pass_file !== undefined) {
    const problem = options.checkFiles === false ? undefined : secretFileProblem(raw.auth_pass_file);
    if (problem) problems.add([...path, 'auth_pass_file'], `password file ${problem}`);
    return { file: raw.auth_pass_file };
  }
  if (raw.auth_pass_env !== undefined) return { env: raw.auth_pass_env };
  return { credential: raw.auth_pass_credential as string };
}

function virtualAddress(a: VrrpFile['instances'][number]['addresses'][number], at: Path, problems: Problems): VrrpAddressConfig | undefined {
  let text: string;
  let prefix: number | undefined;
  let label: string | undefined;
  if (typeof a === 'string') {
    const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(a);
    if (!m) {
      problems.add(at, `"${a}" must be ADDRESS or ADDRESS/PREFIX`);
      return undefined;
    }
    text = m[1];
    prefix = m[2] === undefined ? undefined : Number(m[2]);
  } else {
    text = a.address;
    prefix = a.prefix;
    label = a.label;
  }
  const addr = canonicalAddress(text);
  if (typeof addr === 'string') {
    problems.add(at, addr);
    return undefined;
  }
  const family = addr.family === 'inet' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  if (prefix !== undefined && prefix > max) {
    problems.add(at, `prefix /${prefix} is longer than an IPv${family} address (${max})`);
    return undefined;
  }
  if (label !== undefined && family === 6) problems.add(at, 'labels are for IPv4 addresses only (the kernel keeps none for IPv6)');
  return { address: addr.address, family, prefix: prefix ?? max, ...defined({ label }) };
}

function hostAddress(text: string, family: 4 | 6, at: Path, problems: Problems): string | undefined {
  const addr = canonicalAddress(text);
  if (typeof addr === 'string') {
    problems.add(at, addr);
    return undefined;
  }
  if ((addr.family === 'inet' ? 4 : 6) !== family) {
    problems.add(at, `${addr.address} is not IPv${family} like the instance's addresses`);
    return undefined;
  }
  return addr.address;
}

function positive(value: string | number, at: Path, problems: Problems): number | undefined {
  const ms = durationMs(value);
  if (ms === undefined) return undefined;
  if (ms <= 0) {
    problems.add(at, 'must be longer than 0');
    return undefined;
  }
  return ms;
}

const SCRIPT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * "/usr/bin/chk --port 3306" -> argv; "..." keeps spaces; a bare program name ("killall -0
 * haproxy") is found in SCRIPT_PATH. A string is the problem.
 */
export function splitCommand(text: string, lookup: (name: string) => string | undefined = findProgram): string[] | string {
  const argv: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) argv.push(m[1] ?? m[2]);
  if ((text.match(/"/g) ?? []).length % 2 !== 0) return 'has an unmatched "';
  if (argv.length === 0) return 'is empty';
  if (!argv[0].startsWith('/')) {
    if (argv[0].includes('/')) return `"${argv[0]}": give an absolute path or a bare program name`;
    const found = lookup(argv[0]);
    if (!found) return `"${argv[0]}" is not an executable in ${SCRIPT_PATH.join(':')}`;
    argv[0] = found;
  }
  return argv;
}

function findProgram(name: string): string | undefined {
  for (const dir of SCRIPT_PATH) {
    const path = join(dir, name);
    try {
      accessSync(path, fsConstants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}
