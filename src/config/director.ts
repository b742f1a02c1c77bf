// The director's config (/etc/lvsd/director.yaml): one schema for validation, defaults, the
// TypeScript types and config/director.schema.json. Loading reports every problem at once as
// file:line:column: path.to.key: message, and gives a deep-frozen, camelCase config with
// durations in ms, defaults applied and addresses in canonical form.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { DEFAULT_WATCH_OPTIONS, type WatchOptions } from '../health/core';
import { ConfigError } from '../errors';
import {
  Check,
  Duration,
  defined,
  Port,
  StringEnum,
  TIMING_FIELDS,
  Timing,
  normaliseCheck,
  planCheck,
  strictObject,
  timingOf,
  type CheckConfig,
  type CheckFile,
  type CheckPlan,
  type LoadOptions,
} from './checks';
import {
  Problems,
  SchemaValidator,
  canonicalAddress,
  cronProblem,
  deepFreeze,
  durationMs,
  secretFileProblem,
  toJsonSchema,
  type CanonicalAddress,
  type Locator,
  type Path,
} from './validate';
import { parseYaml, readYamlData } from './yaml';
import { VrrpSchema, normaliseVrrp, type VrrpConfig } from './vrrp';

export type { CheckConfig, CheckPlan, LoadOptions } from './checks';
export type { VrrpConfig, VrrpInstanceConfig, VrrpScriptConfig, VrrpAddressConfig } from './vrrp';

export const DEFAULT_DIRECTOR_CONFIG_PATH = '/etc/lvsd/director.yaml';

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3'] as const;
export const FORWARDS = ['route', 'masq', 'tunnel', 'dr', 'nat', 'tun'] as const;
const FORWARD_ALIAS: Record<(typeof FORWARDS)[number], Forward> = { route: 'route', masq: 'masq', tunnel: 'tunnel', dr: 'route', nat: 'masq', tun: 'tunnel' };

const literals = StringEnum;

const Address = (description: string) => Type.String({ minLength: 1, description });

const Tunnel = strictObject(
  {
    type: literals(['ipip', 'gue', 'gre'] as const, { default: 'ipip' }),
    port: Type.Optional(Port({ description: 'gue only: the UDP port of the encapsulation' })),
    checksum: literals(['nocsum', 'csum', 'remcsum'] as const, { default: 'nocsum' }),
  },
  { description: 'tunnel options, with forward: tunnel' },
);

const Thresholds = strictObject(
  {
    upper: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'most connections (0 = no limit)' }),
    lower: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'connections to fall below before taking new ones again' }),
  },
  { description: 'connection thresholds (keepalived uthreshold/lthreshold)' },
);

const Weight = (options: Record<string, unknown> = {}) => Type.Integer({ minimum: 0, maximum: 65535, ...options });

const Server = strictObject(
  {
    address: Address('IPv4 or IPv6 address of the real server'),
    port: Type.Optional(Port({ description: "default: the service's port (0 for fwmark services)" })),
    weight: Weight({ default: 1 }),
    forward: Type.Optional(literals(FORWARDS, { description: "overrides the service's forward" })),
    tunnel: Type.Optional(Tunnel),
    thresholds: Type.Optional(Thresholds),
    checks: Type.Optional(Type.Array(Check, { description: "replaces the service's checks; all must pass; [] = always up" })),
  },
  { description: 'a real server (keepalived real_server)' },
);

const SorryServer = strictObject(
  {
    address: Address('IPv4 or IPv6 address of the sorry server'),
    port: Type.Optional(Port()),
    forward: Type.Optional(literals(FORWARDS)),
    weight: Weight({ default: 1, minimum: 1 }),
    tunnel: Type.Optional(Tunnel),
  },
  { description: 'in the table only while the quorum is lost, or every server is down with all_down: sorry (keepalived sorry_server)' },
);

const Service = strictObject(
  {
    name: Type.Optional(Type.String({ minLength: 1, pattern: '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$', errorMessage: 'must be printable text without leading or trailing spaces' })),
    protocol: Type.Optional(literals(['tcp', 'udp', 'sctp'] as const, { description: 'default tcp' })),
    address: Type.Optional(Address('virtual IP, IPv4 or IPv6')),
    port: Type.Optional(Port()),
    fwmark: Type.Optional(Type.Integer({ minimum: 1, maximum: 4294967295, description: 'firewall mark, instead of protocol/address/port' })),
    family: Type.Optional(literals(['inet', 'inet6'] as const, { description: 'with fwmark only (default inet)' })),
    scheduler: literals(SCHEDULERS, { default: 'wlc' }),
    scheduler_flags: Type.Array(literals(SCHEDULER_FLAGS), { default: [], uniqueItems: true }),
    persistence: Type.Optional(
      strictObject(
        {
          timeout: Duration({ default: 300, description: 'persistence timeout (whole seconds)' }),
          netmask: Type.Optional(Type.String({ description: 'inet services: dotted mask clients are grouped by (default 255.255.255.255)' })),
          prefix: Type.Optional(Type.Integer({ minimum: 1, maximum: 128, description: 'inet6 services: prefix length clients are grouped by (default 128)' })),
        },
        { description: 'persistent service (keepalived persistence_timeout / persistence_granularity)' },
      ),
    ),
    one_packet: Type.Boolean({ default: false, description: 'UDP: schedule each packet on its own (ipvsadm -o)' }),
    persistence_engine: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,15}$', errorMessage: 'must be a persistence engine name such as sip' })),
    forward: literals(FORWARDS, { default: 'route', description: "servers' default forwarding: route (dr), masq (nat), tunnel (tun)" }),
    tunnel: Type.Optional(Tunnel),
    checks: Type.Array(Check, { default: [], description: 'default checks of every server of this service' }),
    check_defaults: Type.Optional(Timing),
    on_failure: literals(['weight-0', 'remove'] as const, { default: 'weight-0', description: 'a failed server gets weight 0 (keepalived inhibit_on_failure) or is removed' }),
    quorum: Type.Optional(
      strictObject(
        {
          weight: Type.Integer({ minimum: 1, description: 'least sum of the weights of up servers' }),
          hysteresis: Type.Integer({ minimum: 0, default: 0 }),
        },
        { description: 'below weight - hysteresis the sorry server comes in; back at weight + hysteresis it goes' },
      ),
    ),
    sorry_server: Type.Optional(SorryServer),
    active: literals(['all', 'one'] as const, {
      default: 'all',
      description:
        'one: a single server takes new connections (one writer): the first up in list order, kept while it stays up; the other up servers wait at weight 0 (standby). all: every up server',
    }),
    all_down: literals(['keep-last', 'sorry', 'empty'] as const, { default: 'empty', description: 'every server down: leave them all at weight 0 (empty, the default), keep the one that failed last serving (keep-last), or use the sorry server (sorry)' }),
    slow_start: Type.Optional(Duration({ description: 'ramp a server that comes up to its weight over this long' })),
    drain_deadline: Duration({ default: '5m', description: 'a server removed from the config is drained (weight 0) until idle or this deadline, then deleted' }),
    notify: Type.Optional(
      Type.String({
        pattern: '^/',
        errorMessage: 'must start with an absolute path',
        description: 'run (no shell) when a server changes state: SERVER <service> <server> UP|DOWN; and the quorum: QUORUM <service> UP|DOWN (keepalived notify_up/notify_down, quorum_up/quorum_down)',
      }),
    ),
    maintenance: Type.Array(
      strictObject({
        servers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: "this service's servers: address or address:port" }),
        schedule: Type.String({ description: 'node-cron expression for the start of the window' }),
        duration: Duration(),
      }),
      { default: [] },
    ),
    servers: Type.Array(Server),
  },
  { description: 'a virtual service (keepalived virtual_server)' },
);

function Bit(opts: { default?: 0 | 1; description: string }) {
  return Type.Integer({ minimum: 0, maximum: 1, ...opts });
}

const Global = strictObject(
  {
  log_level: literals(['trace', 'debug', 'info', 'warn', 'error'] as const, { default: 'info' }),
  timeouts: Type.Optional(
    strictObject(
      { tcp: Type.Optional(Duration()), tcpfin: Type.Optional(Duration()), udp: Type.Optional(Duration()) },
      { description: 'IPVS connection timeouts (ipvsadm --set); absent ones are left as the kernel has them' },
    ),
  ),
  sync_daemon: Type.Optional(
    strictObject(
      {
        state: Type.Optional(literals(['master', 'backup'] as const, { description: 'a fixed state; or instance' })),
        instance: Type.Optional(Type.String({ minLength: 1, description: 'a vrrp instance: master daemon while it is MASTER, backup daemon otherwise (keepalived lvs_sync_daemon IFACE INSTANCE)' })),
        interface: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$', errorMessage: 'must be an interface name (1-15 characters of A-Z a-z 0-9 _ . -)' }),
        sync_id: Type.Integer({ minimum: 0, maximum: 255, default: 0 }),
        max_len: Type.Optional(Type.Integer({ minimum: 1, maximum: 65507 })),
        group: Type.Optional(Address('multicast group, IPv4 or IPv6')),
        port: Type.Optional(Port()),
        ttl: Type.Optional(Type.Integer({ minimum: 1, maximum: 255 })),
      },
      { description: 'IPVS connection synchronisation daemon (keepalived lvs_sync_daemon)' },
    ),
  ),
  ipvs_sysctl: strictObject(
    {
      // the two that make weight 0 mean "no new connections": kube-proxy sets them too
      expire_nodest_conn: Bit({
        default: 1,
        description: "1: a new connection from a client port still in the table, to a server now at weight 0 or removed, is scheduled afresh (kernel's 0: it goes to that server)",
      }),
      expire_quiescent_template: Bit({
        default: 1,
        description: "1: a persistent client of a server at weight 0 goes to another server on its next connection (kernel's 0: persistence keeps it on the failed server until its template expires)",
      }),
      conn_reuse_mode: Type.Optional(
        Type.Integer({ minimum: 0, maximum: 3, description: 'port reuse, a bitmap: 1 reschedules a reused port when safe (kernel default), 2 also from FIN_WAIT (DR), 0 never' }),
      ),
      sloppy_tcp: Type.Optional(Bit({ description: '1: any TCP packet, not only a SYN, makes a connection entry (a director taking over without connection sync)' })),
      sloppy_sctp: Type.Optional(Bit({ description: '1: as sloppy_tcp, for SCTP' })),
      conntrack: Type.Optional(Bit({ description: '1: keep netfilter conntrack entries for IPVS connections (firewall rules that match conntrack state)' })),
      backup_only: Type.Optional(Bit({ description: '1: no forwarding while the backup sync daemon runs (DR/TUN directors that are also real servers)' })),
    },
    {
      default: {},
      description: 'net.ipv4.vs.* set at start and on every reload where the kernel differs; one left out stays as the kernel has it',
    },
  ),
  status: strictObject(
    {
      listen: Type.Unsafe<string | false>({
        type: ['string', 'boolean'],
        default: '127.0.0.1:9180',
        not: { const: true },
        errorMessage: 'must be ADDRESS:PORT ([IPv6]:PORT), "" or false',
        description: 'HTTP status page, JSON and /metrics; "" or false disables; off loopback it needs auth',
      }),
      auth: Type.Optional(strictObject({ user: Type.String({ minLength: 1 }), password_file: Type.String({ minLength: 1 }) })),
      tls: Type.Optional(
        strictObject(
          {
            cert_file: Type.String({ minLength: 1, description: 'PEM certificate (chain) of the endpoint' }),
            key_file: Type.String({ minLength: 1, description: 'PEM private key; mode 0600, like a password file' }),
          },
          { description: 'HTTPS; needed, with auth, when listen is not loopback' },
        ),
      ),
    },
    { default: {} },
  ),
  control: strictObject(
    {
      socket: Type.String({ default: '/run/lvsd/director.sock', pattern: '^/', errorMessage: 'must be an absolute path' }),
      mode: Type.String({ default: '0600', pattern: '^0?[0-7]{3}$', errorMessage: 'must be an octal file mode in quotes, like "0600"' }),
    },
    { default: {}, description: 'local control API (drain, enable, weight, status) on a Unix socket' },
  ),
  state_file: Type.String({ default: '/var/lib/lvsd/director.json', pattern: '^/', errorMessage: 'must be an absolute path' }),
  resync: Type.String({ default: '* * * * *', description: 'node-cron schedule of the repair of the kernel table' }),
  flush_on_exit: Type.Boolean({ default: false, description: 'delete the managed services when the daemon stops' }),
  },
  { default: {} },
);

export const DirectorConfigSchema = strictObject(
  {
    global: Global,
    check_defaults: strictObject(TIMING_FIELDS, { default: {}, description: 'default timing of every check' }),
    services: Type.Array(Service),
    vrrp: Type.Optional(VrrpSchema),
  },
  {
    title: 'lvsd director configuration',
    description: 'lvsd director run -c FILE; validate with lvsd director check-config -c FILE',
  },
);

/**
 * config/director.schema.json's text: the schema above as plain JSON Schema (draft-07), for editors
 * (yaml-language-server: `# yaml-language-server: $schema=/usr/share/lvsd/director.schema.json`).
 * scripts/gen-schema.js writes it; a unit test fails when the shipped file differs.
 */
export function directorJsonSchema(): string {
  return JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...toJsonSchema(DirectorConfigSchema) }, null, 2) + '\n';
}

/** The file as written, after defaults (snake_case). */
export type DirectorConfigFile = Static<typeof DirectorConfigSchema>;

// ---- the normalised config the director runs on ----

export type Forward = 'route' | 'masq' | 'tunnel';
export type Family = 'inet' | 'inet6';
export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface TunnelConfig {
  type: 'ipip' | 'gue' | 'gre';
  port?: number;
  checksum: 'nocsum' | 'csum' | 'remcsum';
}

export interface ServerConfig {
  /** "198.18.0.21:3306", "[2001:db8::21]:443": unique within its service */
  name: string;
  address: string;
  family: Family;
  /** 0 for a fwmark service's server without a port */
  port: number;
  weight: number;
  forward: Forward;
  tunnel?: TunnelConfig;
  thresholds: { upper: number; lower: number };
  /** its own checks; undefined = the service's */
  checks?: CheckConfig[];
}

export type SorryServerConfig = Omit<ServerConfig, 'checks' | 'thresholds'>;

export type ServiceKeyConfig =
  | { family: Family; protocol: Protocol; address: string; port: number; fwmark?: undefined }
  | { family: Family; fwmark: number; protocol?: undefined; address?: undefined; port?: undefined };

export interface ServiceConfig {
  /** the given name, or "198.18.0.10:3306", "udp 198.18.0.10:53", "fwmark 5" */
  name: string;
  key: ServiceKeyConfig;
  scheduler: (typeof SCHEDULERS)[number];
  schedulerFlags: (typeof SCHEDULER_FLAGS)[number][];
  /** netmask: dotted mask for inet, prefix length for inet6 (as ipvs's VirtualService has it) */
  persistence?: { timeoutMs: number; netmask: string | number };
  onePacket: boolean;
  persistenceEngine?: string;
  forward: Forward;
  /** default checks of its servers */
  checks: CheckConfig[];
  /** check timing for this service: global check_defaults with the service's over them */
  checkDefaults: WatchOptions;
  onFailure: 'weight-0' | 'remove';
  quorum?: { weight: number; hysteresis: number };
  sorryServer?: SorryServerConfig;
  /** one: a single server serves at a time (the others up wait at weight 0) */
  active: 'all' | 'one';
  allDown: 'keep-last' | 'sorry' | 'empty';
  /** 0 = no slow start */
  slowStartMs: number;
  drainDeadlineMs: number;
  /** program run on server and quorum changes */
  notify?: string;
  /** servers: names of this service's servers (ServerConfig.name) */
  maintenance: { servers: string[]; schedule: string; durationMs: number }[];
  servers: ServerConfig[];
}

export interface GlobalConfig {
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** IPVS timeouts in ms (whole seconds); absent = leave the kernel's */
  timeouts: { tcpMs?: number; tcpfinMs?: number; udpMs?: number };
  /** net.ipv4.vs.NAME -> value, the ones to set */
  ipvsSysctl: Record<string, number>;
  /** state fixed, or following a VRRP instance's */
  syncDaemon?: { state?: 'master' | 'backup'; instance?: string; interface: string; syncId: number; maxLen?: number; group?: string; port?: number; ttl?: number };
  status: { listen?: { address: string; family: Family; port: number }; auth?: { user: string; passwordFile: string }; tls?: { certFile: string; keyFile: string } };
  control: { socket: string; mode: number };
  stateFile: string;
  resync: string;
  flushOnExit: boolean;
}

export interface DirectorConfig {
  /** the file it was read from */
  path: string;
  global: GlobalConfig;
  /** global check timing (complete) */
  checkDefaults: WatchOptions;
  services: ServiceConfig[];
  vrrp?: VrrpConfig;
}

// Compiled once, at build time when it can be (scripts/build-validators.js): a reload must not
// pay for it. ajv keeps the last call's errors on the function, read synchronously right after
// the call, so nothing carries between loads.
export const DIRECTOR_VALIDATOR_MODULE = './director.validate.js';
const validator = new SchemaValidator(DirectorConfigSchema, { prebuilt: () => require(DIRECTOR_VALIDATOR_MODULE) });

/** For the fast read: a problem found there only sends the file to the full read. */
const UNPLACED: Locator = { describe: (_path, message) => ({ text: message, offset: 0 }) };

/** Reads and validates a director config; throws ConfigError listing every problem. */
export function loadDirectorConfig(path: string, options: LoadOptions = {}): DirectorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([`${path}: cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`]);
  }
  return parseDirectorConfig(text, path, options);
}

/** Validates director config text (`path` names it in errors); throws ConfigError listing every problem. */
export function parseDirectorConfig(text: string, path: string, options: LoadOptions = {}): DirectorConfig {
  // A valid file needs no positions: read it fast. At the first problem, start over with the full
  // read, so every problem is reported exactly as below, each with its place.
  const plain = readYamlData(text);
  if (plain) {
    const problems = new Problems(UNPLACED);
    const data = plain.data ?? {};
    if (validator.validate(data, problems)) {
      const config = normalise(data, problems, options, false);
      if (!problems.list.length) return deepFreeze({ path, ...config });
    }
  }
  const source = parseYaml(text, path);
  if (source.syntaxErrors.length) throw new ConfigError(source.syntaxErrors);
  const problems = new Problems(source.locator);
  const data = source.data ?? {};
  if (!validator.validate(data, problems)) {
    // Semantic checks still run on the parts that are well-formed, so every problem shows at once.
    try {
      normalise(data as DirectorConfigFile, problems, options, true);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // else: a malformed part the schema already reported
    }
    throw new ConfigError(problems.list);
  }
  const config = normalise(data, problems, options, false);
  problems.throwIfAny();
  return deepFreeze({ path, ...config });
}

/** `lvsd director check-config -c FILE`: every problem, nothing thrown for bad input. */
export function checkConfig(path: string, options: LoadOptions = {}): { ok: boolean; errors: string[] } {
  try {
    loadDirectorConfig(path, options);
    return { ok: true, errors: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, errors: [...err.errors] };
    throw err;
  }
}

/** Each check of a server, as src/health runs it: the server's own checks, else the service's. */
export function checksOf(service: ServiceConfig, server: ServerConfig): CheckPlan[] {
  return (server.checks ?? service.checks).map((check) => planCheck(check, { host: server.address, port: server.port }, service.checkDefaults));
}

// ---- normalisation and the checks a schema cannot express ----

/** `malformed`: the schema found problems, so a part may not have its shape; skip such parts. */
function normalise(file: DirectorConfigFile, problems: Problems, options: LoadOptions, malformed: boolean): Omit<DirectorConfig, 'path'> {
  const global = normaliseGlobal(file.global, problems, options);
  const checkDefaults: WatchOptions = { ...DEFAULT_WATCH_OPTIONS, ...timingOf(file.check_defaults, ['check_defaults'], problems) };
  const services: ServiceConfig[] = [];
  const keys = new Map<string, number>();
  const names = new Map<string, number>();
  file.services.forEach((raw, i) => {
    const path = ['services', i];
    try {
      const service = normaliseService(raw, path, checkDefaults, problems, options);
      if (!service) return;
      const key = serviceKeyText(service.key);
      const dupOf = keys.get(key);
      if (dupOf !== undefined) problems.add(path, `duplicate service: ${key} is also services[${dupOf}]`);
      else keys.set(key, i);
      const nameOf = names.get(service.name);
      if (nameOf !== undefined && dupOf === undefined) problems.add(raw.name === undefined ? path : [...path, 'name'], `duplicate service name "${service.name}" (also services[${nameOf}])`);
      else names.set(service.name, i);
      services.push(service);
    } catch (err) {
      if (!malformed || !(err instanceof TypeError)) throw err; // else: a part the schema reported
    }
  });
  let vrrp: VrrpConfig | undefined;
  if (file.vrrp) {
    try {
      vrrp = normaliseVrrp(file.vrrp, new Set(services.map((s) => s.name)), problems, options);
    } catch (err) {
      if (!malformed || !(err instanceof TypeError)) throw err;
    }
  }
  const sync = global.syncDaemon;
  if (file.global.sync_daemon && sync) {
    const at = ['global', 'sync_daemon'];
    if (sync.state === undefined && sync.instance === undefined) problems.add(at, 'needs state (master or backup) or instance (a vrrp instance whose state it follows)');
    if (sync.state !== undefined && sync.instance !== undefined) problems.add(at, 'state or instance, not both');
    if (sync.instance !== undefined && !vrrp?.instances.some((i) => i.name === sync.instance)) {
      problems.add([...at, 'instance'], `"${sync.instance}" is not one of vrrp.instances`);
    }
  }
  return { global, checkDefaults, services, ...defined({ vrrp }) };
}

function normaliseGlobal(g: DirectorConfigFile['global'], problems: Problems, options: LoadOptions): GlobalConfig {
  const at: Path = ['global'];
  const timeouts: GlobalConfig['timeouts'] = {};
  for (const [key, field] of [['tcp', 'tcpMs'], ['tcpfin', 'tcpfinMs'], ['udp', 'udpMs']] as const) {
    const value = g.timeouts?.[key];
    if (value === undefined) continue;
    const ms = wholeSeconds(value, [...at, 'timeouts', key], problems);
    if (ms !== undefined) timeouts[field] = ms;
  }
  let syncDaemon: GlobalConfig['syncDaemon'];
  if (g.sync_daemon) {
    const s = g.sync_daemon;
    let group: string | undefined;
    if (s.group !== undefined) {
      const addr = address(s.group, [...at, 'sync_daemon', 'group'], problems);
      if (addr && !isMulticast(addr)) problems.add([...at, 'sync_daemon', 'group'], `${addr.address} is not a multicast address`);
      group = addr?.address;
    }
    syncDaemon = { interface: s.interface, syncId: s.sync_id, ...defined({ state: s.state, instance: s.instance, maxLen: s.max_len, group, port: s.port, ttl: s.ttl }) };
  }
  const status: GlobalConfig['status'] = {};
  if (typeof g.status.listen === 'string' && g.status.listen !== '') {
    const listen = parseListen(g.status.listen, [...at, 'status', 'listen'], problems);
    if (listen) {
      status.listen = listen;
      const loopback = listen.address === '::1' || listen.address.startsWith('127.');
      if (!loopback && (!g.status.auth || !g.status.tls)) {
        problems.add([...at, 'status'], `listen ${g.status.listen} is not loopback: set auth (user and password_file) and tls (cert_file and key_file): the status page shows the whole table, and Basic auth over plain HTTP sends the password in clear`);
      }
    }
  }
  if (g.status.auth) {
    status.auth = { user: g.status.auth.user, passwordFile: g.status.auth.password_file };
    const problem = options.checkFiles === false ? undefined : secretFileProblem(g.status.auth.password_file);
    if (problem) problems.add([...at, 'status', 'auth', 'password_file'], `password file ${problem}`);
  }
  if (g.status.tls) {
    const { cert_file: certFile, key_file: keyFile } = g.status.tls;
    status.tls = { certFile, keyFile };
    if (options.checkFiles !== false) {
      const keyProblem = secretFileProblem(keyFile);
      if (keyProblem) problems.add([...at, 'status', 'tls', 'key_file'], `key file ${keyProblem}`);
      try {
        readFileSync(certFile);
      } catch (err) {
        problems.add([...at, 'status', 'tls', 'cert_file'], `cannot read "${certFile}": ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
  }
  const cron = cronProblem(g.resync);
  if (cron) problems.add([...at, 'resync'], cron);
  return {
    logLevel: g.log_level,
    timeouts,
    ipvsSysctl: { ...g.ipvs_sysctl },
    ...defined({ syncDaemon }),
    status,
    control: { socket: g.control.socket, mode: parseInt(g.control.mode, 8) },
    stateFile: g.state_file,
    resync: g.resync,
    flushOnExit: g.flush_on_exit,
  };
}

type ServiceFile = DirectorConfigFile['services'][number];
type ServerFile = ServiceFile['servers'][number];

function normaliseService(s: ServiceFile, at: Path, globalTiming: WatchOptions, problems: Problems, options: LoadOptions): ServiceConfig | undefined {
  let key: ServiceKeyConfig | undefined;
  if (s.fwmark !== undefined) {
    for (const k of ['protocol', 'address', 'port'] as const) {
      if (s[k] !== undefined) problems.add([...at, k], `not allowed with fwmark (a fwmark service is identified by its mark and family)`);
    }
    key = { family: s.family ?? 'inet', fwmark: s.fwmark };
  } else {
    if (s.family !== undefined) problems.add([...at, 'family'], "only with fwmark (an address's family is its own)");
    if (s.address === undefined) problems.add(at, 'missing required key "address" (or fwmark)');
    if (s.port === undefined) problems.add(at, 'missing required key "port" (or fwmark)');
    const addr = s.address === undefined ? undefined : address(s.address, [...at, 'address'], problems);
    if (addr && s.port !== undefined) key = { family: addr.family, protocol: s.protocol ?? 'tcp', address: addr.address, port: s.port };
  }
  const family = key?.family ?? (s.address ? (s.address.includes(':') ? 'inet6' : 'inet') : (s.family ?? 'inet'));

  for (const [i, flag] of s.scheduler_flags.entries()) {
    const needs = flag.startsWith('sh-') ? 'sh' : flag.startsWith('mh-') ? 'mh' : undefined;
    if (needs && s.scheduler !== needs) problems.add([...at, 'scheduler_flags', i], `${flag} is a flag of the ${needs} scheduler (scheduler is ${s.scheduler})`);
  }

  let persistence: ServiceConfig['persistence'];
  if (s.persistence) {
    const p = s.persistence;
    const timeoutMs = wholeSeconds(p.timeout, [...at, 'persistence', 'timeout'], problems, 1);
    let netmask: string | number = family === 'inet' ? '255.255.255.255' : 128;
    if (family === 'inet') {
      if (p.prefix !== undefined) problems.add([...at, 'persistence', 'prefix'], 'prefix is for inet6 services; an inet service takes netmask (e.g. 255.255.255.0)');
      if (p.netmask !== undefined) {
        if (isNetmask(p.netmask)) netmask = p.netmask;
        else problems.add([...at, 'persistence', 'netmask'], `"${p.netmask}" is not an IPv4 netmask (contiguous, like 255.255.255.0)`);
      }
    } else {
      if (p.netmask !== undefined) problems.add([...at, 'persistence', 'netmask'], 'netmask is for inet services; an inet6 service takes prefix (e.g. prefix: 64)');
      if (p.prefix !== undefined) netmask = p.prefix;
    }
    if (timeoutMs !== undefined) persistence = { timeoutMs, netmask };
  }
  if (s.persistence_engine !== undefined && !s.persistence) problems.add([...at, 'persistence_engine'], 'needs persistence');
  if (s.one_packet && key?.protocol !== undefined && key.protocol !== 'udp') problems.add([...at, 'one_packet'], `is for UDP services (protocol is ${key.protocol})`);

  const timing = timingOver(globalTiming, timingOf(s.check_defaults ?? {}, [...at, 'check_defaults'], problems));
  const checks = s.checks.map((c, i) => normaliseCheck(c as CheckFile, [...at, 'checks', i], problems, options));
  const forward = FORWARD_ALIAS[s.forward];
  if (s.tunnel && forward !== 'tunnel') problems.add([...at, 'tunnel'], `only with forward: tunnel (forward is ${forward})`);

  const servers: ServerConfig[] = [];
  const seen = new Map<string, number>();
  s.servers.forEach((raw, i) => {
    const path = [...at, 'servers', i];
    const server = normaliseServer(raw, path, { family, port: key?.port ?? 0, fwmark: s.fwmark !== undefined, forward, tunnel: s.tunnel, tunnelPath: [...at, 'tunnel'] }, problems, options);
    if (!server) return;
    const dupOf = seen.get(server.name);
    if (dupOf !== undefined) problems.add(path, `duplicate server ${server.name} in this service (also servers[${dupOf}])`);
    else seen.set(server.name, i);
    if (s.fwmark !== undefined && server.port === 0 && (server.checks ?? checks).some((c) => c.port === undefined)) {
      problems.add(path, 'a fwmark service\'s server without a port needs a port on each of its checks');
    }
    servers.push(server);
  });

  let sorryServer: SorryServerConfig | undefined;
  if (s.sorry_server) {
    const sorry = normaliseServer({ ...s.sorry_server, checks: [] }, [...at, 'sorry_server'], { family, port: key?.port ?? 0, fwmark: s.fwmark !== undefined, forward, tunnel: s.tunnel, tunnelPath: [...at, 'tunnel'] }, problems, options);
    if (sorry) {
      const { checks: _checks, thresholds: _thresholds, ...rest } = sorry;
      sorryServer = rest;
      if (seen.has(sorry.name)) problems.add([...at, 'sorry_server'], `${sorry.name} is also one of the service's servers`);
    }
    if (!s.quorum && s.all_down !== 'sorry') problems.add([...at, 'sorry_server'], 'is never used: set quorum, or all_down: sorry');
  }
  if (s.all_down === 'sorry' && !s.sorry_server) problems.add([...at, 'all_down'], 'all_down: sorry needs a sorry_server');
  if (s.quorum) {
    const total = s.servers.reduce((sum, server) => sum + (server.weight ?? 1), 0);
    if (!s.sorry_server) problems.add([...at, 'quorum'], 'has no effect without a sorry_server');
    if (s.quorum.weight > total) problems.add([...at, 'quorum', 'weight'], `${s.quorum.weight} can never be met: the servers' weights add up to ${total}`);
    if (s.quorum.hysteresis >= s.quorum.weight) problems.add([...at, 'quorum', 'hysteresis'], `must be below quorum weight ${s.quorum.weight}`);
  }

  const maintenance: ServiceConfig['maintenance'] = [];
  s.maintenance.forEach((m, i) => {
    const path = [...at, 'maintenance', i];
    const names: string[] = [];
    m.servers.forEach((ref, j) => {
      const matched = matchServers(ref, servers);
      if (matched.length === 0) problems.add([...path, 'servers', j], `"${ref}" is not a server of this service`);
      names.push(...matched);
    });
    const cron = cronProblem(m.schedule);
    if (cron) problems.add([...path, 'schedule'], cron);
    const durationMsValue = positiveMs(m.duration, [...path, 'duration'], problems);
    maintenance.push({ servers: [...new Set(names)], schedule: m.schedule, durationMs: durationMsValue ?? 0 });
  });

  const slowStartMs = s.slow_start === undefined ? 0 : (durationMs(s.slow_start) ?? 0);
  const drainDeadlineMs = durationMs(s.drain_deadline) ?? 0;
  if (!key) return undefined;
  return {
    name: s.name ?? defaultServiceName(key),
    key,
    scheduler: s.scheduler,
    schedulerFlags: s.scheduler_flags,
    ...defined({ persistence, persistenceEngine: s.persistence_engine }),
    onePacket: s.one_packet,
    forward,
    checks,
    checkDefaults: timing,
    onFailure: s.on_failure,
    ...defined({ quorum: s.quorum && { weight: s.quorum.weight, hysteresis: s.quorum.hysteresis }, sorryServer }),
    active: s.active,
    allDown: s.all_down,
    slowStartMs,
    drainDeadlineMs,
    ...defined({ notify: s.notify }),
    maintenance,
    servers: servers.slice(), // exact length: the parse is kept, and a pushed-to array keeps room for 17
  };
}

interface ServerContext {
  family: Family;
  port: number;
  fwmark: boolean;
  forward: Forward;
  tunnel?: ServiceFile['tunnel'];
  tunnelPath: Path;
}

function normaliseServer(r: ServerFile, at: Path, ctx: ServerContext, problems: Problems, options: LoadOptions): ServerConfig | undefined {
  const addr = address(r.address, [...at, 'address'], problems);
  const forward = r.forward === undefined ? ctx.forward : FORWARD_ALIAS[r.forward];
  if (addr && addr.family !== ctx.family && forward !== 'tunnel') {
    problems.add([...at, 'address'], `${addr.address} is ${addr.family === 'inet' ? 'IPv4' : 'IPv6'} but the service is ${ctx.family === 'inet' ? 'IPv4' : 'IPv6'}; mixing families needs forward: tunnel`);
  }
  const tunnelFile = r.tunnel ?? ctx.tunnel;
  let tunnel: TunnelConfig | undefined;
  if (r.tunnel && forward !== 'tunnel') problems.add([...at, 'tunnel'], `only with forward: tunnel (forward is ${forward})`);
  if (forward === 'tunnel') {
    const t = tunnelFile ?? { type: 'ipip' as const, checksum: 'nocsum' as const };
    const tunnelAt = r.tunnel ? [...at, 'tunnel'] : ctx.tunnel ? ctx.tunnelPath : at;
    if (t.type === 'gue' && t.port === undefined) problems.add(tunnelAt, 'a gue tunnel needs a port');
    if (t.type !== 'gue' && t.port !== undefined) problems.add([...tunnelAt, 'port'], `only gue tunnels have a port (type is ${t.type})`);
    tunnel = { type: t.type, checksum: t.checksum, ...defined({ port: t.port }) };
  }
  // most servers have none: one shared object (the parse is kept for the reload comparison)
  const thresholds = r.thresholds ? { upper: r.thresholds.upper ?? 0, lower: r.thresholds.lower ?? 0 } : NO_THRESHOLDS;
  if (thresholds.upper !== 0 && thresholds.lower > thresholds.upper) problems.add([...at, 'thresholds', 'lower'], `${thresholds.lower} is above upper ${thresholds.upper}`);
  const checks = r.checks?.map((c, i) => normaliseCheck(c as CheckFile, [...at, 'checks', i], problems, options));
  if (!addr) return undefined;
  const port = r.port ?? ctx.port;
  return {
    name: hostPort(addr.address, port),
    address: addr.address,
    family: addr.family,
    port,
    weight: r.weight,
    forward,
    ...defined({ tunnel }),
    thresholds,
    ...defined({ checks }),
  };
}

// ---- small helpers ----

/**
 * `own` over `base`: base itself when own sets nothing, else one object literal (a spread made a
 * hidden class per service, ~250 bytes each, kept with the parse).
 */
function timingOver(base: WatchOptions, own: Partial<WatchOptions>): WatchOptions {
  if (Object.keys(own).length === 0) return base;
  return {
    intervalMs: own.intervalMs ?? base.intervalMs,
    timeoutMs: own.timeoutMs ?? base.timeoutMs,
    rise: own.rise ?? base.rise,
    fall: own.fall ?? base.fall,
    initialState: own.initialState ?? base.initialState,
    jitter: own.jitter ?? base.jitter,
    backoffMaxMs: own.backoffMaxMs ?? base.backoffMaxMs,
  };
}

const NO_THRESHOLDS: ServerConfig['thresholds'] = Object.freeze({ upper: 0, lower: 0 });

function address(text: string, at: Path, problems: Problems): CanonicalAddress | undefined {
  const result = canonicalAddress(text);
  if (typeof result === 'string') {
    problems.add(at, result);
    return undefined;
  }
  return result;
}

/** join(): one flat string, kept as every server's name (a template literal keeps a rope). */
function hostPort(address: string, port: number): string {
  return address.includes(':') ? ['[', address, ']:', port].join('') : [address, port].join(':');
}

function serviceKeyText(key: ServiceKeyConfig): string {
  if (key.fwmark !== undefined) return `fwmark ${key.fwmark}${key.family === 'inet6' ? ' (inet6)' : ''}`;
  return `${key.protocol} ${hostPort(key.address, key.port)}`;
}

function defaultServiceName(key: ServiceKeyConfig): string {
  if (key.fwmark !== undefined) return `fwmark ${key.fwmark}${key.family === 'inet6' ? ' inet6' : ''}`;
  const hp = hostPort(key.address, key.port);
  return key.protocol === 'tcp' ? hp : [key.protocol, hp].join(' ');
}

/** "198.18.0.21" matches every port of that address; "198.18.0.21:3306" / "[2001:db8::1]:80" one. */
function matchServers(ref: string, servers: readonly ServerConfig[]): string[] {
  const bare = canonicalAddress(ref);
  if (typeof bare !== 'string') return servers.filter((s) => s.address === bare.address).map((s) => s.name);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(ref) ?? /^([^:]+):(\d+)$/.exec(ref);
  if (!m) return [];
  const addr = canonicalAddress(m[1]);
  if (typeof addr === 'string') return [];
  const name = hostPort(addr.address, Number(m[2]));
  return servers.filter((s) => s.name === name).map((s) => s.name);
}

function parseListen(text: string, at: Path, problems: Problems): GlobalConfig['status']['listen'] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) {
    problems.add(at, `"${text}" must be ADDRESS:PORT ([IPv6]:PORT), "" or false`);
    return undefined;
  }
  const addr = address(m[1], at, problems);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) problems.add(at, `port ${port} is out of range (1..65535)`);
  return addr && port >= 1 && port <= 65535 ? { address: addr.address, family: addr.family, port } : undefined;
}

function isMulticast(addr: CanonicalAddress): boolean {
  if (addr.family === 'inet') {
    const first = Number(addr.address.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return addr.address.startsWith('ff');
}

function isNetmask(text: string): boolean {
  const addr = canonicalAddress(text);
  if (typeof addr === 'string' || addr.family !== 'inet') return false;
  const bits = addr.address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const inverted = ~bits >>> 0;
  return bits !== 0 && (inverted & (inverted + 1)) === 0;
}

function wholeSeconds(value: string | number, at: Path, problems: Problems, min = 1): number | undefined {
  const ms = durationMs(value);
  if (ms === undefined) return undefined; // the schema reported it
  if (ms % 1000 !== 0) problems.add(at, `${JSON.stringify(value)} must be a whole number of seconds (IPVS counts in seconds)`);
  else if (ms < min * 1000) problems.add(at, `must be at least ${min}s`);
  else return ms;
  return undefined;
}

function positiveMs(value: string | number, at: Path, problems: Problems): number | undefined {
  const ms = durationMs(value);
  if (ms === undefined) return undefined;
  if (ms <= 0) {
    problems.add(at, 'must be longer than 0');
    return undefined;
  }
  return ms;
}
