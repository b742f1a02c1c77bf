// The record of what `up` changed, so `down` can undo exactly that and nothing else.
// Written before the first change: a crash half-way through `up` still leaves a usable undo record.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from '../src/errors';
import type { Mode, TunnelKind } from './config';

export const STATE_VERSION = 1;

export interface AddedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly prefixlen: number;
  /** IPv4 only: the kernel has no labels for IPv6 addresses. */
  readonly label?: string;
}

export interface RealserverState {
  readonly version: number;
  /** Where the state is valid: this network namespace (inode of /proc/self/ns/net) in this boot. */
  readonly netns: string;
  readonly bootId: string;
  readonly mode: Mode;
  /** The VIPs requested, in order. */
  readonly vips: string[];
  /** The device the VIPs go on: lo, or the tunnel device. */
  readonly device: string;
  readonly tunnel?: { readonly kind: TunnelKind; readonly created: boolean; readonly local?: string };
  /** Whether `device` was administratively up before the first `up`. */
  readonly deviceWasUp: boolean;
  /** Addresses `up` added; VIPs that were already there are not listed, so `down` leaves them. */
  added: AddedAddress[];
  /** The value of every sysctl `up` manages, as found before the first `up`. */
  readonly sysctls: { readonly key: string; readonly before: string }[];
}

export function currentNetns(): string {
  return String(statSync('/proc/self/ns/net').ino);
}

export function currentBootId(): string {
  return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
}

/** Reads the state file; undefined when there is none. Throws StateError when it is unusable. */
export function readState(path: string): RealserverState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`state file ${path}: cannot read: ${(err as Error).message}`);
  }
  let state: RealserverState;
  try {
    state = JSON.parse(text) as RealserverState;
  } catch (err) {
    throw new StateError(`state file ${path} is corrupt (${(err as Error).message.replace(/\s+/g, ' ')}); pass --force to ignore it`);
  }
  const problem = shapeProblem(state);
  if (problem) throw new StateError(`state file ${path} is corrupt (${problem}); pass --force to ignore it`);
  if (state.netns !== currentNetns() || state.bootId !== currentBootId()) {
    throw new StateError(
      `state file ${path} was written in another network namespace or before a reboot, so its addresses and prior values do not describe this system; pass --force to ignore it`,
    );
  }
  return state;
}

function shapeProblem(s: RealserverState): string | undefined {
  if (typeof s !== 'object' || s === null) return 'not a JSON object';
  if (s.version !== STATE_VERSION) return `version ${String(s.version)}, expected ${STATE_VERSION}`;
  if (s.mode !== 'dr' && s.mode !== 'tun') return 'bad "mode"';
  if (typeof s.netns !== 'string' || typeof s.bootId !== 'string' || typeof s.device !== 'string') return 'missing netns, bootId or device';
  if (typeof s.deviceWasUp !== 'boolean') return 'bad "deviceWasUp"';
  if (!Array.isArray(s.vips) || !s.vips.every((v) => typeof v === 'string')) return 'bad "vips"';
  if (!Array.isArray(s.added) || !s.added.every((a) => typeof a?.address === 'string' && (a.family === 4 || a.family === 6) && Number.isInteger(a.prefixlen))) {
    return 'bad "added"';
  }
  if (!Array.isArray(s.sysctls) || !s.sysctls.every((c) => typeof c?.key === 'string' && typeof c.before === 'string')) return 'bad "sysctls"';
  if (s.tunnel !== undefined && (typeof s.tunnel !== 'object' || typeof s.tunnel.created !== 'boolean')) return 'bad "tunnel"';
  return undefined;
}

/**
 * mkdir -p, one level at a time: Node 20's mkdirSync({ recursive: true }) spins forever under
 * /proc (ENOENT there does not mean "create the parent first").
 */
function makeDirectories(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirectories(parent);
  mkdirSync(dir, { mode: 0o755 });
}

/** Writes atomically (temp file + rename), so a crash never leaves half a file. */
export function writeState(path: string, state: RealserverState): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    makeDirectories(dirname(path));
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new StateError(`cannot write state file ${path} (${(err as Error).message}); nothing was changed without it: choose another place with --state`);
  }
}

export function removeState(path: string): void {
  rmSync(path, { force: true });
}
