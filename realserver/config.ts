// What the operator asks for: VIPs, mode and tunnel, from --vip flags or a YAML file.
// Every error names its place: the flag, or file:line:column.
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { Type } from '@sinclair/typebox';
import { ConfigError, InputError } from '../src/errors';
import { StringEnum, strictObject } from '../src/config/checks';
import { Problems, SchemaValidator, canonicalAddress } from '../src/config/validate';
import { parseYaml } from '../src/config/yaml';

export type Mode = 'dr' | 'tun';
export type TunnelKind = 'ipip' | 'gre';

export interface Vip {
  /** Canonical text: 198.18.0.10, 2001:db8::10. */
  readonly address: string;
  readonly family: 4 | 6;
}

export interface Tunnel {
  readonly kind: TunnelKind;
  /** tunl0 / gre0 are the kernel's catch-all devices, created when the ipip / ip_gre module loads. */
  readonly device: string;
  /**
   * This host's address the director tunnels to. Needed for a device of our own next to the
   * catch-all one: the kernel allows one tunnel per (local, remote) pair, and both would be "any".
   */
  readonly local?: string;
}

export interface RealserverConfig {
  readonly mode: Mode;
  readonly vips: readonly Vip[];
  /** Present in TUN mode only. */
  readonly tunnel?: Tunnel;
  readonly statePath: string;
}

/** The command-line flags, as commander hands them over (all optional). */
export interface RealserverFlags {
  vip?: string[];
  config?: string;
  mode?: string;
  tunnel?: string;
  tunnelDevice?: string;
  tunnelLocal?: string;
  state?: string;
}

export const DEFAULT_STATE_PATH = '/run/lvsd/realserver.json';
const FALLBACK_TUNNEL_DEVICE: Record<TunnelKind, string> = { ipip: 'tunl0', gre: 'gre0' };
const MODES: readonly Mode[] = ['dr', 'tun'];
const TUNNEL_KINDS: readonly TunnelKind[] = ['ipip', 'gre'];
const DEVICE_NAME = '^[A-Za-z0-9_.-]{1,15}$';

/** The realserver YAML file (every key optional but vips; flags override the file). */
export const RealserverFileSchema = strictObject({
  mode: Type.Optional(StringEnum(MODES, { description: 'dr (VIPs on lo) or tun (VIPs on the tunnel device)' })),
  vips: Type.Array(Type.String(), { minItems: 1, description: 'addresses only, no prefix length' }),
  tunnel: Type.Optional(
    strictObject({
      kind: Type.Optional(StringEnum(TUNNEL_KINDS)),
      device: Type.Optional(Type.String({ pattern: DEVICE_NAME, errorMessage: 'must be an interface name (1-15 characters of A-Z a-z 0-9 _ . -)' })),
      local: Type.Optional(Type.String()),
    }),
  ),
  state: Type.Optional(Type.String({ minLength: 1 })),
});

/** Why a text is not a usable VIP, or the VIP. */
function vipOrProblem(text: string): Vip | string {
  const addr = canonicalAddress(text);
  if (typeof addr === 'string') {
    return text.trim().includes('/') ? `VIP ${addr} (it is always added as /32 or /128)` : addr;
  }
  const { address } = addr;
  if (addr.family === 'inet') {
    const octets = address.split('.').map(Number);
    const reason =
      octets[0] === 0 ? 'is in 0.0.0.0/8 ("this network")' :
      octets[0] === 127 ? 'is a loopback address' :
      octets[0] >= 224 && octets[0] <= 239 ? 'is a multicast address' :
      octets[0] >= 240 ? 'is a reserved or broadcast address' : undefined;
    return reason ? `VIP ${address} ${reason}; a VIP must be a unicast address` : { address, family: 4 };
  }
  const reason =
    address === '::' ? 'is the unspecified address' :
    address === '::1' ? 'is the loopback address' :
    /^fe[89ab]/.test(address) ? 'is link-local' :
    address.startsWith('ff') ? 'is a multicast address' :
    address.startsWith('::ffff:') ? 'is an IPv4-mapped address (give the IPv4 address instead)' : undefined;
  return reason ? `VIP ${text.trim()} ${reason}; a VIP must be a unicast address` : { address, family: 6 };
}

/** Parses one VIP. `where` names the flag or file position for the error message. */
export function parseVip(text: string, where: string): Vip {
  const vip = vipOrProblem(text);
  if (typeof vip === 'string') throw new InputError(`${where}: ${vip}`);
  return vip;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(`${where}: "${value}" is not one of ${allowed.join(', ')}`);
}

/** Interface names: at most 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name, plus ':' for labels). */
function parseDeviceName(value: string, where: string): string {
  if (!new RegExp(DEVICE_NAME).test(value) || value === '.' || value === '..') {
    throw new InputError(`${where}: "${value}" is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ . -)`);
  }
  return value;
}

const TUNNEL_LOCAL_PROBLEM = (value: string) => `tunnel local address "${value}" is not an IPv4 address (ipip and gre run over IPv4)`;

/** The tunnel's outer (IPv4) address on this host. */
function parseTunnelLocal(value: string, where: string): string {
  if (!isIPv4(value)) throw new InputError(`${where}: ${TUNNEL_LOCAL_PROBLEM(value)}`);
  return value;
}

interface FileSettings {
  mode?: Mode;
  vips: Vip[];
  tunnelKind?: TunnelKind;
  tunnelDevice?: string;
  tunnelLocal?: string;
  state?: string;
}

/** Reads a realserver YAML file; reports every problem at once, each as file:line:column: key: message. */
export function loadConfigFile(path: string): FileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`--config ${path}: cannot read: ${(err as Error).message}`);
  }
  const source = parseYaml(text, path);
  if (source.syntaxErrors.length) throw new ConfigError(source.syntaxErrors);
  const problems = new Problems(source.locator);
  const data = source.data ?? {};
  new SchemaValidator(RealserverFileSchema).validate(data, problems);
  const file = data as Partial<typeof RealserverFileSchema.static>;
  const settings: FileSettings = { vips: [] };
  // Addresses are checked even when another key is wrong, so every problem shows at once.
  const seen = new Map<string, number>();
  (Array.isArray(file.vips) ? file.vips : []).forEach((text, i) => {
    if (typeof text !== 'string') return;
    const vip = vipOrProblem(text);
    if (typeof vip === 'string') return problems.add(['vips', i], vip);
    const first = seen.get(vip.address);
    if (first !== undefined) problems.add(['vips', i], `VIP ${vip.address} is listed twice (also vips[${first}])`);
    seen.set(vip.address, i);
    settings.vips.push(vip);
  });
  const local = file.tunnel?.local;
  if (typeof local === 'string' && !isIPv4(local)) problems.add(['tunnel', 'local'], TUNNEL_LOCAL_PROBLEM(local));
  problems.throwIfAny(); // the schema's problems are in the list too
  if (file.mode) settings.mode = file.mode;
  if (file.state) settings.state = file.state;
  if (file.tunnel?.kind) settings.tunnelKind = file.tunnel.kind;
  if (file.tunnel?.device) settings.tunnelDevice = file.tunnel.device;
  if (local) settings.tunnelLocal = local;
  return settings;
}

/** Merges flags over the config file, applies defaults, and checks the whole request. */
export function resolveConfig(flags: RealserverFlags, options: { requireVips: boolean }): RealserverConfig {
  const file = flags.config ? loadConfigFile(flags.config) : undefined;
  const problems: string[] = [];
  const vips: Vip[] = [];
  if (flags.vip?.length && file) problems.push('--vip and --config: give the VIPs either as flags or in the config file, not both');
  for (const text of flags.vip ?? []) {
    try {
      vips.push(parseVip(text, '--vip'));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (file) vips.push(...file.vips);
  const seen = new Set<string>();
  for (const vip of vips) {
    if (seen.has(vip.address)) problems.push(`${flags.config ?? '--vip'}: VIP ${vip.address} is listed twice`);
    seen.add(vip.address);
  }
  if (options.requireVips && vips.length === 0 && problems.length === 0) {
    problems.push('no VIPs given: pass --vip ADDRESS (repeatable) or --config FILE');
  }

  let mode: Mode = 'dr';
  try {
    if (flags.mode !== undefined) mode = oneOf(flags.mode, MODES, '--mode');
    else if (file?.mode) mode = file.mode;
  } catch (err) {
    problems.push((err as Error).message);
  }

  let tunnel: Tunnel | undefined;
  const kindText = flags.tunnel ?? file?.tunnelKind;
  const deviceText = flags.tunnelDevice ?? file?.tunnelDevice;
  const localText = flags.tunnelLocal ?? file?.tunnelLocal;
  if (mode === 'tun') {
    try {
      const kind = oneOf(kindText ?? 'ipip', TUNNEL_KINDS, '--tunnel');
      const device = deviceText === undefined ? FALLBACK_TUNNEL_DEVICE[kind] : parseDeviceName(deviceText, '--tunnel-device');
      if (device === 'lo') throw new InputError('--tunnel-device: lo is not a tunnel device');
      const local = flags.tunnelLocal !== undefined ? parseTunnelLocal(flags.tunnelLocal, '--tunnel-local') : file?.tunnelLocal;
      tunnel = { kind, device, ...(local ? { local } : {}) };
    } catch (err) {
      problems.push((err as Error).message);
    }
    for (const vip of vips) {
      // ipip and gre carry IPv4 inside IPv4; an IPv6 VIP in TUN mode needs an ip6tnl device, which we do not manage.
      if (vip.family === 6) problems.push(`VIP ${vip.address}: TUN mode supports IPv4 VIPs only (an IPv6 VIP needs an ip6tnl tunnel, which lvsd does not set up)`);
    }
  } else if (kindText !== undefined || deviceText !== undefined || localText !== undefined) {
    const fromFlags = flags.tunnel !== undefined || flags.tunnelDevice !== undefined || flags.tunnelLocal !== undefined;
    problems.push(`${fromFlags ? '--tunnel' : flags.config}: a tunnel is only used with --mode tun (mode is dr)`);
  }

  if (problems.length) throw new ConfigError(problems);
  return { mode, vips, tunnel, statePath: flags.state ?? file?.state ?? DEFAULT_STATE_PATH };
}
