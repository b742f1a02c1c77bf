// What the operator asks for: VIPs, mode and tunnel, from --vip flags or a YAML file.
// Every error names its place: the flag, or file:line:column.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import { InputError } from '../src/errors';

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
const CONFIG_KEYS = ['mode', 'vips', 'tunnel', 'state'];
const TUNNEL_KEYS = ['kind', 'device', 'local'];

/** Parses one VIP. `where` names the flag or file position for the error message. */
export function parseVip(text: string, where: string): Vip {
  const raw = text.trim();
  if (raw.includes('/')) {
    throw new InputError(`${where}: VIP "${raw}" must be a single address without a prefix length (it is always added as /32 or /128)`);
  }
  if (isIPv4(raw)) {
    const octets = raw.split('.').map(Number);
    const reason =
      octets[0] === 0 ? 'is in 0.0.0.0/8 ("this network")' :
      octets[0] === 127 ? 'is a loopback address' :
      octets[0] >= 224 && octets[0] <= 239 ? 'is a multicast address' :
      octets[0] >= 240 ? 'is a reserved or broadcast address' : undefined;
    if (reason) throw new InputError(`${where}: VIP ${raw} ${reason}; a VIP must be a unicast address`);
    return { address: raw, family: 4 };
  }
  if (isIPv6(raw)) {
    const address = new URL(`http://[${raw}]`).hostname.slice(1, -1); // canonical RFC 5952 form
    const reason =
      address === '::' ? 'is the unspecified address' :
      address === '::1' ? 'is the loopback address' :
      /^fe[89ab]/.test(address) ? 'is link-local' :
      address.startsWith('ff') ? 'is a multicast address' :
      address.startsWith('::ffff:') ? 'is an IPv4-mapped address (give the IPv4 address instead)' : undefined;
    if (reason) throw new InputError(`${where}: VIP ${raw} ${reason}; a VIP must be a unicast address`);
    return { address, family: 6 };
  }
  throw new InputError(`${where}: "${raw}" is not an IPv4 or IPv6 address`);
}

function oneOf<T extends string>(value: string, allowed: readonly T[], where: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(`${where}: "${value}" is not one of ${allowed.join(', ')}`);
}

/** Interface names: at most 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name, plus ':' for labels). */
function parseDeviceName(value: string, where: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(value) || value === '.' || value === '..') {
    throw new InputError(`${where}: "${value}" is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ . -)`);
  }
  return value;
}

/** The tunnel's outer (IPv4) address on this host. */
function parseTunnelLocal(value: string, where: string): string {
  if (!isIPv4(value)) throw new InputError(`${where}: tunnel local address "${value}" is not an IPv4 address (ipip and gre run over IPv4)`);
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

/** Reads a realserver YAML file; reports every problem at once, each as file:line:column. */
export function loadConfigFile(path: string): FileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`--config ${path}: cannot read: ${(err as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: Node | null | undefined, offset?: number): string => {
    const pos = lines.linePos(offset ?? node?.range?.[0] ?? 0);
    return `${path}:${pos.line}:${pos.col}`;
  };
  const problems: string[] = [];
  for (const err of doc.errors) problems.push(`${at(null, err.pos[0])}: ${err.message.split('\n')[0]}`);
  if (problems.length) throw new InputError(problems.join('; '));

  const settings: FileSettings = { vips: [] };
  const root = doc.contents;
  if (!isMap(root)) throw new InputError(`${at(root)}: expected a mapping with "vips:" (and optionally mode, tunnel, state)`);
  const collect = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof InputError) problems.push(err.message);
      else throw err;
    }
  };
  const scalarText = (node: unknown, where: string): string => {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) return String(node.value);
    throw new InputError(`${where}: expected a plain value`);
  };

  for (const pair of root.items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const value = pair.value as Node | null;
    const where = at(value ?? keyNode);
    collect(() => {
      switch (key) {
        case 'mode':
          settings.mode = oneOf(scalarText(value, where), MODES, `${where}: mode`);
          break;
        case 'state':
          settings.state = scalarText(value, where);
          break;
        case 'vips':
          if (!isSeq(value) || value.items.length === 0) throw new InputError(`${where}: vips must be a non-empty list of addresses`);
          for (const item of value.items) {
            collect(() => {
              const itemWhere = at(item as Node);
              settings.vips.push(parseVip(scalarText(item, itemWhere), itemWhere));
            });
          }
          break;
        case 'tunnel':
          if (!isMap(value)) throw new InputError(`${where}: tunnel must be a mapping with kind (ipip or gre) and optionally device`);
          for (const tpair of value.items) {
            const tkeyNode = tpair.key as Node;
            const tkey = isScalar(tkeyNode) ? String(tkeyNode.value) : '';
            const twhere = at((tpair.value as Node | null) ?? tkeyNode);
            collect(() => {
              if (tkey === 'kind') settings.tunnelKind = oneOf(scalarText(tpair.value, twhere), TUNNEL_KINDS, `${twhere}: tunnel.kind`);
              else if (tkey === 'device') settings.tunnelDevice = parseDeviceName(scalarText(tpair.value, twhere), twhere);
              else if (tkey === 'local') settings.tunnelLocal = parseTunnelLocal(scalarText(tpair.value, twhere), twhere);
              else throw new InputError(`${at(tkeyNode)}: unknown key tunnel.${tkey} (known: ${TUNNEL_KEYS.join(', ')})`);
            });
          }
          break;
        default:
          throw new InputError(`${at(keyNode)}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
      }
    });
  }
  if (!root.items.some((p) => isScalar(p.key) && p.key.value === 'vips')) problems.push(`${at(root)}: missing "vips:" list`);
  if (problems.length) throw new InputError(problems.join('; '));
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

  if (problems.length) throw new InputError(problems.join('; '));
  return { mode, vips, tunnel, statePath: flags.state ?? file?.state ?? DEFAULT_STATE_PATH };
}
