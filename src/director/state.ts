// The director's state file: which services it owns (IPVS has no owner tag) and the operators'
// overrides, so both survive a reload, a restart and a crash. Written atomically (temp + fsync +
// rename), read leniently: a missing file is an empty state, a damaged one is an error in words.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from '../errors';
import type { Override } from './desired';

export interface DirectorState {
  /** service ids the director created or adopted */
  owned: string[];
  /** "serviceId/serverId" -> override */
  overrides: Record<string, Override>;
}

const VERSION = 1;

export function emptyState(): DirectorState {
  return { owned: [], overrides: {} };
}

export function readState(path: string): DirectorState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new StateError(`cannot read the state file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StateError(`the state file ${path} is not valid JSON (${(err as Error).message}): move it away to start afresh`);
  }
  const d = data as { version?: unknown; owned?: unknown; overrides?: unknown };
  if (d?.version !== VERSION || !Array.isArray(d.owned) || typeof d.overrides !== 'object' || d.overrides === null) {
    throw new StateError(`the state file ${path} is not a version ${VERSION} lvsd director state: move it away to start afresh`);
  }
  const overrides: Record<string, Override> = {};
  for (const [k, v] of Object.entries(d.overrides as Record<string, unknown>)) {
    const o = v as { kind?: unknown; weight?: unknown };
    if (o?.kind === 'drain') overrides[k] = { kind: 'drain' };
    else if (o?.kind === 'weight' && Number.isInteger(o.weight) && (o.weight as number) >= 0 && (o.weight as number) <= 65535) {
      overrides[k] = { kind: 'weight', weight: o.weight as number };
    }
  }
  return { owned: d.owned.filter((x): x is string => typeof x === 'string'), overrides };
}

export function writeState(path: string, state: DirectorState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ version: VERSION, owned: [...state.owned].sort(), overrides: state.overrides }, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
