// `lvsd realserver up|down|status`: hold the VIPs on lo (DR) or on a tunnel device (TUN) without
// answering ARP for them, and undo exactly that. Replaces the operators' lvs_realserver.sh (seed 002).
import { InputError, StateError } from '../src/errors';
import { DEFAULT_STATE_PATH, resolveConfig, type RealserverConfig, type RealserverFlags, type Vip } from './config';
import { requireNetAdmin } from './privileges';
import { currentBootId, currentNetns, readState, removeState, STATE_VERSION, writeState, type AddedAddress, type RealserverState } from './state';
import { realserverSysctls } from './sysctl';
import { openSystem, type Address, type Link, type RealserverSystem } from './system';

export interface Report {
  lines: string[];
  /** status only: something is not as `up` left it. */
  drifted?: boolean;
  /** status only: no state file and no VIPs asked about. */
  notSetUp?: boolean;
}

export interface CommandOptions extends RealserverFlags {
  force?: boolean;
}

/** What the system looks like now, as far as the realserver cares. */
export interface Observed {
  links: Link[];
  addresses: Address[];
  sysctls: Map<string, string | undefined>;
}

export type Change =
  | { kind: 'create-tunnel'; device: string; tunnelKind: 'ipip' | 'gre'; local?: string }
  | { kind: 'link-up'; device: string }
  | { kind: 'link-down'; device: string }
  | { kind: 'delete-link'; device: string }
  | { kind: 'add-address'; device: string; address: AddedAddress }
  | { kind: 'delete-address'; device: string; address: AddedAddress }
  | { kind: 'set-sysctl'; key: string; from: string; to: string };

export function prefixFor(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

export function targetDevice(config: RealserverConfig): string {
  return config.tunnel?.device ?? 'lo';
}

function findLink(observed: Observed, name: string): Link | undefined {
  return observed.links.find((l) => l.name === name);
}

function addressesOn(observed: Observed, device: string): Address[] {
  const link = findLink(observed, device);
  return link ? observed.addresses.filter((a) => a.index === link.index) : [];
}

function hasAddress(observed: Observed, device: string, address: string): boolean {
  return addressesOn(observed, device).some((a) => a.address === address);
}

/**
 * A VIP on any other interface than lo or our device would be answered there (ARP or NDP)
 * and pull the director's traffic to this host, so we refuse rather than make it worse.
 */
export function conflicts(vips: readonly Vip[], device: string, observed: Observed): string[] {
  const names = new Map(observed.links.map((l) => [l.index, l.name]));
  const problems: string[] = [];
  for (const vip of vips) {
    for (const a of observed.addresses) {
      const on = names.get(a.index) ?? `interface #${a.index}`;
      if (a.address === vip.address && on !== 'lo' && on !== device) {
        problems.push(`VIP ${vip.address} is also configured on ${on}: that interface would answer ARP/NDP for it and take the director's traffic; remove it there first (ip addr del ${vip.address}/${a.prefixlen} dev ${on})`);
      }
    }
  }
  return problems;
}

/** The next free label lo:N (IPv4 only; labels longer than 15 bytes do not fit IFNAMSIZ and are left out). */
function nextLabel(device: string, used: Set<string>): string | undefined {
  for (let n = 0; ; n++) {
    const label = `${device}:${n}`;
    if (label.length > 15) return undefined;
    if (!used.has(label)) {
      used.add(label);
      return label;
    }
  }
}

/**
 * Plans `up`: the changes that bring the system to the config, and the state to record.
 * Order: retire what a previous run added and is no longer wanted, then the device, the VIPs, the sysctls.
 */
export function planUp(config: RealserverConfig, observed: Observed, previous: RealserverState | undefined): { changes: Change[]; state: RealserverState; notes: string[] } {
  const device = targetDevice(config);
  const changes: Change[] = [];
  const notes: string[] = [];
  const wanted = new Set(config.vips.map((v) => v.address));

  // Leftovers of a previous `up` for another VIP set or device (only reached with --force).
  const kept: AddedAddress[] = [];
  if (previous) {
    for (const added of previous.added) {
      if (previous.device === device && wanted.has(added.address)) kept.push(added);
      else if (hasAddress(observed, previous.device, added.address)) changes.push({ kind: 'delete-address', device: previous.device, address: added });
    }
    if (previous.device !== device && findLink(observed, previous.device)) {
      if (previous.tunnel?.created) changes.push({ kind: 'delete-link', device: previous.device });
      else if (!previous.deviceWasUp && findLink(observed, previous.device)?.up) changes.push({ kind: 'link-down', device: previous.device });
    }
  }
  const sameDevice = previous?.device === device;

  // The device.
  const link = findLink(observed, device);
  let created = sameDevice ? previous?.tunnel?.created ?? false : false;
  let deviceWasUp = sameDevice ? previous!.deviceWasUp : link?.up ?? false;
  if (!link) {
    if (!config.tunnel) throw new StateError(`${device} does not exist`);
    changes.push({ kind: 'create-tunnel', device, tunnelKind: config.tunnel.kind, local: config.tunnel.local }, { kind: 'link-up', device });
    created = true;
    deviceWasUp = sameDevice ? deviceWasUp : false;
  } else {
    if (config.tunnel && link.kind !== config.tunnel.kind) {
      throw new InputError(`--tunnel-device: ${device} already exists and is ${link.kind ? `a ${link.kind} device` : 'not a tunnel'}, not ${config.tunnel.kind}`);
    }
    if (!link.up) changes.push({ kind: 'link-up', device });
  }

  // The VIPs.
  const retired = new Set(changes.flatMap((c) => (c.kind === 'delete-address' && c.device === device ? [c.address.address] : [])));
  const used = new Set(addressesOn(observed, device).filter((a) => !retired.has(a.address)).map((a) => a.label).filter((l): l is string => !!l));
  for (const k of kept) if (k.label) used.add(k.label); // a kept VIP removed by hand gets its own label back
  const added = [...kept];
  for (const vip of config.vips) {
    if (hasAddress(observed, device, vip.address)) {
      if (!previous) notes.push(`VIP ${vip.address} was already on ${device}: left as it is, and \`down\` will leave it too`);
      continue;
    }
    const keptEntry = kept.find((a) => a.address === vip.address);
    const address: AddedAddress = keptEntry ?? {
      address: vip.address,
      family: vip.family,
      prefixlen: prefixFor(vip.family),
      ...(vip.family === 4 ? { label: nextLabel(device, used) } : {}),
    };
    changes.push({ kind: 'add-address', device, address });
    if (!keptEntry) added.push(address);
  }

  // The sysctls. Prior values come from the first `up`; a key seen for the first time is read now.
  const table = realserverSysctls(config.tunnel?.device);
  const before = new Map(previous?.sysctls.map((s) => [s.key, s.before]));
  const sysctls: { key: string; before: string }[] = [];
  for (const setting of table) {
    const current = observed.sysctls.get(setting.key);
    // A device that does not exist yet will start with the `default` value: that is its prior value.
    const prior = before.get(setting.key) ?? current ?? observed.sysctls.get(defaultKey(setting.key)) ?? setting.kernelDefault;
    sysctls.push({ key: setting.key, before: prior });
    if (current !== setting.value) changes.push({ kind: 'set-sysctl', key: setting.key, from: current ?? '(absent)', to: setting.value });
  }
  // Keys the previous run managed that this one does not (e.g. the old tunnel's rp_filter): put them back.
  for (const old of previous?.sysctls ?? []) {
    if (table.some((s) => s.key === old.key)) continue;
    const current = observed.sysctls.get(old.key);
    if (current !== undefined && current !== old.before) changes.push({ kind: 'set-sysctl', key: old.key, from: current, to: old.before });
  }

  const state: RealserverState = {
    ...stateIdentity(config, device),
    ...(config.tunnel ? { tunnel: { kind: config.tunnel.kind, created, ...(config.tunnel.local ? { local: config.tunnel.local } : {}) } } : {}),
    deviceWasUp,
    added,
    sysctls,
  };
  return { changes, state, notes };
}

/** Plans `down`: remove what the state says we added, put back the prior values. */
export function planDown(state: RealserverState, observed: Observed): Change[] {
  const changes: Change[] = [];
  const link = findLink(observed, state.device);
  for (const added of state.added) {
    if (hasAddress(observed, state.device, added.address)) changes.push({ kind: 'delete-address', device: state.device, address: added });
  }
  for (const { key, before } of state.sysctls) {
    const current = observed.sysctls.get(key);
    if (current !== undefined && current !== before) changes.push({ kind: 'set-sysctl', key, from: current, to: before });
  }
  if (link && state.tunnel?.created) changes.push({ kind: 'delete-link', device: state.device });
  else if (link?.up && !state.deviceWasUp) changes.push({ kind: 'link-down', device: state.device });
  return changes;
}

export function describe(change: Change): string {
  switch (change.kind) {
    case 'create-tunnel':
      return `created ${change.tunnelKind} tunnel device ${change.device}${change.local ? ` (local ${change.local})` : ''}`;
    case 'link-up':
      return `set ${change.device} up`;
    case 'link-down':
      return `set ${change.device} down (as it was before up)`;
    case 'delete-link':
      return `deleted tunnel device ${change.device}`;
    case 'add-address':
      return `added ${change.address.address}/${change.address.prefixlen} to ${change.device}${change.address.label ? ` (label ${change.address.label})` : ''}${change.address.family === 6 ? ' (nodad)' : ''}`;
    case 'delete-address':
      return `removed ${change.address.address}/${change.address.prefixlen} from ${change.device}`;
    case 'set-sysctl':
      return `set ${change.key} = ${change.to} (was ${change.from})`;
  }
}

async function observe(system: RealserverSystem, sysctlKeys: Iterable<string>): Promise<Observed> {
  const [links, addresses] = await Promise.all([system.links(), system.addresses()]);
  const sysctls = new Map<string, string | undefined>();
  for (const key of sysctlKeys) sysctls.set(key, system.readSysctl(key));
  return { links, addresses, sysctls };
}

/** net.ipv4.conf.tunl0.rp_filter -> net.ipv4.conf.default.rp_filter */
function defaultKey(key: string): string {
  return key.replace(/^net\.ipv4\.conf\..+\.([^.]+)$/, 'net.ipv4.conf.default.$1');
}

function sysctlKeys(config: RealserverConfig | undefined, state: RealserverState | undefined): Set<string> {
  const keys = new Set<string>();
  if (config) for (const s of realserverSysctls(config.tunnel?.device)) keys.add(s.key).add(defaultKey(s.key));
  for (const s of state?.sysctls ?? []) keys.add(s.key);
  return keys;
}

/** Applies changes in order, appending what each did to `lines`. A create that finds the device already there is not ours. */
async function apply(system: RealserverSystem, changes: Change[], lines: string[], state?: RealserverState): Promise<void> {
  for (const change of changes) {
    const link = async (name: string): Promise<Link> => {
      const found = (await system.links()).find((l) => l.name === name);
      if (!found) throw new StateError(`${name} disappeared while lvsd was changing it`);
      return found;
    };
    switch (change.kind) {
      case 'create-tunnel': {
        const outcome = await system.createTunnel(change.device, change.tunnelKind, change.local);
        if (outcome === 'appeared') {
          // Loading the ipip/ip_gre module created the kernel's own catch-all device: it is not ours to delete.
          if (state?.tunnel) (state as { tunnel: { created: boolean } }).tunnel.created = false;
          lines.push(`loaded the ${change.tunnelKind} module, which created ${change.device}`);
          continue;
        }
        break;
      }
      case 'link-up':
        await system.setLinkUp(await link(change.device), true);
        break;
      case 'link-down':
        await system.setLinkUp(await link(change.device), false);
        break;
      case 'delete-link':
        await system.deleteLink(await link(change.device));
        break;
      case 'add-address':
        await system.addAddress(await link(change.device), change.address);
        break;
      case 'delete-address':
        await system.deleteAddress(await link(change.device), change.address);
        break;
      case 'set-sysctl':
        system.writeSysctl(change.key, change.to);
        break;
    }
    lines.push(describe(change));
  }
}

function sameRequest(state: RealserverState, config: RealserverConfig): boolean {
  return (
    state.mode === config.mode &&
    state.device === targetDevice(config) &&
    state.tunnel?.local === config.tunnel?.local &&
    state.vips.join(',') === config.vips.map((v) => v.address).join(',')
  );
}

function mismatch(state: RealserverState, config: RealserverConfig, action: string): StateError {
  return new StateError(
    `state file ${config.statePath} was written for mode ${state.mode} on ${state.device} with VIPs ${state.vips.join(', ')}, ` +
      `but this ${action} is for mode ${config.mode} on ${targetDevice(config)} with VIPs ${config.vips.map((v) => v.address).join(', ')}: ` +
      `run \`lvsd realserver down --state ${config.statePath}\` first, or pass --force`,
  );
}

/** Reads the state; with --force an unusable state file is set aside instead of stopping us. */
function stateOrForce(path: string, force: boolean | undefined, lines: string[]): RealserverState | undefined {
  try {
    return readState(path);
  } catch (err) {
    if (!(err instanceof StateError) || !force) throw err;
    lines.push(`ignoring unusable state file (--force): ${err.message.split(';')[0]}`);
    return undefined;
  }
}

export async function up(options: CommandOptions, system?: RealserverSystem): Promise<Report> {
  const config = resolveConfig(options, { requireVips: true });
  requireNetAdmin('up');
  const lines: string[] = [];
  const previous = stateOrForce(config.statePath, options.force, lines);
  if (previous && !sameRequest(previous, config)) {
    if (!options.force) throw mismatch(previous, config, 'up');
    lines.push(`switching from VIPs ${previous.vips.join(', ')} (--force): addresses lvsd added for them and no longer wanted are removed; the original prior values are kept`);
  }
  const sys = system ?? (await openSystem());
  try {
    const observed = await observe(sys, sysctlKeys(config, previous));
    const problems = conflicts(config.vips, targetDevice(config), observed);
    if (problems.length) throw new InputError(problems.join('; '));
    const plan = planUp(config, observed, previous);
    lines.push(...plan.notes);
    // Record the undo information before touching anything.
    writeState(config.statePath, plan.state);
    if (plan.changes.length === 0) {
      lines.push('nothing to do: every VIP and sysctl is already in place');
      return { lines };
    }
    const done: string[] = [];
    try {
      await apply(sys, plan.changes, done, plan.state);
    } catch (err) {
      // Refused at the first change of a first `up` (e.g. EPERM): nothing to undo, so no state either.
      if (!previous && done.length === 0) removeState(config.statePath);
      throw err;
    }
    lines.push(...done);
    writeState(config.statePath, plan.state);
    return { lines };
  } finally {
    if (!system) sys.close();
  }
}

/** For down and status the VIPs are optional: without them the state file alone says what to do. */
function requested(options: CommandOptions): { asked?: RealserverConfig; statePath: string } {
  const asked = options.vip?.length || options.config ? resolveConfig(options, { requireVips: true }) : undefined;
  return { asked, statePath: asked?.statePath ?? options.state ?? DEFAULT_STATE_PATH };
}

export async function down(options: CommandOptions, system?: RealserverSystem): Promise<Report> {
  const { asked, statePath } = requested(options);
  requireNetAdmin('down');
  const lines: string[] = [];
  let state: RealserverState | undefined;
  try {
    state = readState(statePath);
  } catch (err) {
    if (!(err instanceof StateError) || !options.force) throw err;
    if (!asked) throw new StateError(`${err.message.split(';')[0]}; with --force, also give the VIPs (--vip or --config) so lvsd knows what to remove`);
    lines.push(`ignoring unusable state file (--force): the prior sysctl values are unknown, so kernel defaults are restored`);
    state = forcedState(asked);
  }
  if (!state) return { lines: [`nothing to do: no state file at ${statePath} (realserver is not set up)`] };
  if (asked && !sameRequest(state, asked)) {
    if (!options.force) throw mismatch(state, asked, 'down');
    lines.push(`undoing what the state file records (--force), not the VIPs given`);
  }
  const sys = system ?? (await openSystem());
  try {
    const observed = await observe(sys, sysctlKeys(undefined, state));
    const changes = planDown(state, observed);
    if (changes.length) await apply(sys, changes, lines);
    else lines.push('nothing to change: what up added is already gone and the prior values are in place');
    removeState(statePath);
    return { lines };
  } finally {
    if (!system) sys.close();
  }
}

/** What a state file is about: which system (namespace, boot) and which request. */
function stateIdentity(config: RealserverConfig, device: string) {
  return {
    version: STATE_VERSION,
    netns: currentNetns(),
    bootId: currentBootId(),
    mode: config.mode,
    vips: config.vips.map((v) => v.address),
    device,
  };
}

/** A stand-in for a lost state file: remove the given VIPs, restore kernel defaults. */
function forcedState(config: RealserverConfig): RealserverState {
  const device = targetDevice(config);
  return {
    ...stateIdentity(config, device),
    deviceWasUp: true,
    added: config.vips.map((v) => ({ address: v.address, family: v.family, prefixlen: prefixFor(v.family) })),
    sysctls: realserverSysctls(config.tunnel?.device).map((s) => ({ key: s.key, before: s.kernelDefault })),
  };
}

export async function status(options: CommandOptions, system?: RealserverSystem): Promise<Report> {
  const { asked, statePath } = requested(options);
  const state = readState(statePath);
  if (state && asked && !sameRequest(state, asked)) throw mismatch(state, asked, 'status');
  if (!state && !asked) return { lines: [`not set up: no state file at ${statePath}`], notSetUp: true };

  const device = state?.device ?? targetDevice(asked!);
  const vips: Vip[] = asked ? [...asked.vips] : state!.vips.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const tunnelDevice = state ? (state.mode === 'tun' ? state.device : undefined) : asked!.tunnel?.device;
  const table = realserverSysctls(tunnelDevice);
  const sys = system ?? (await openSystem());
  try {
    const observed = await observe(sys, sysctlKeys(asked, state));
    const lines: string[] = [];
    const drift: string[] = [];
    lines.push(`mode ${state?.mode ?? asked!.mode}, VIPs on ${device}${state ? ` (state ${statePath})` : ' (no state file: not set up by lvsd)'}`);
    const link = findLink(observed, device);
    if (!link) drift.push(`${device} does not exist`);
    else if (!link.up) drift.push(`${device} is down`);
    else lines.push(`  ${device}: up`);
    for (const vip of vips) {
      const found = addressesOn(observed, device).find((a) => a.address === vip.address);
      const ours = state?.added.some((a) => a.address === vip.address);
      if (found) lines.push(`  ${vip.address}/${found.prefixlen} on ${device}${found.label && found.label !== device ? ` label ${found.label}` : ''}: ok${ours ? '' : ' (was there before up)'}`);
      else drift.push(`VIP ${vip.address} is missing from ${device}`);
    }
    drift.push(...conflicts(vips, device, observed));
    const before = new Map(state?.sysctls.map((s) => [s.key, s.before]));
    for (const setting of table) {
      const current = observed.sysctls.get(setting.key);
      const prior = before.has(setting.key) ? ` (before up: ${before.get(setting.key)})` : '';
      if (current === setting.value) lines.push(`  ${setting.key} = ${current}: ok${prior}`);
      else drift.push(`${setting.key} is ${current ?? '(absent)'}, want ${setting.value}`);
    }
    for (const d of drift) lines.push(`  DRIFT: ${d}`);
    lines.push(drift.length ? `drifted: ${drift.length} problem(s); \`lvsd realserver up\` puts them right` : 'in place: no drift');
    return { lines, drifted: drift.length > 0 };
  } finally {
    if (!system) sys.close();
  }
}
