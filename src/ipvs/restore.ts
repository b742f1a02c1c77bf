// Reads `ipvsadm -R` input (what `ipvsadm -S` writes, and any ipvsadm command line, optionally
// starting with "ipvsadm"): the whole input is checked first and every problem names its line;
// only a fully valid input yields commands to apply.
import { InputError, LvsdError } from '../errors';
import type { Ipvs, IpvsOp, RealServerKey, ServiceEntry, ServiceKey, Timeouts } from './types';
import { buildCommand, buildTimeouts, readOptions, type IpvsCommand } from './command';
import { sameService } from './codec';
import type { CommandKind } from './options';

/** The ipvsadm command switches a restore line may start with. */
const COMMAND_SWITCHES: Record<string, CommandKind | 'set-timeouts'> = {
  '-A': 'add-service',
  '--add-service': 'add-service',
  '-E': 'edit-service',
  '--edit-service': 'edit-service',
  '-D': 'delete-service',
  '--delete-service': 'delete-service',
  '-a': 'add-server',
  '--add-server': 'add-server',
  '-e': 'edit-server',
  '--edit-server': 'edit-server',
  '-d': 'delete-server',
  '--delete-server': 'delete-server',
  '-C': 'flush',
  '--clear': 'flush',
  '-Z': 'zero',
  '--zero': 'zero',
  '--set': 'set-timeouts',
};

export interface RestoreLine {
  /** 1-based line number in the input */
  line: number;
  command: IpvsCommand;
}

export class RestoreError extends InputError {
  readonly problems: readonly { line: number; message: string }[];
  constructor(problems: { line: number; message: string }[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more bad line${problems.length > 2 ? 's' : ''})` : '';
    super(`line ${first.line}: ${first.message}${more}`);
    this.problems = problems;
  }
}

/** What /\s/ matches, without a regular expression per character for the ASCII cases. */
function isBlank(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return /\s/.test(c);
}

/** Splits a line into words: blanks separate, quotes group, backslash escapes, # starts a comment. */
export function splitWords(line: string): string[] {
  return splitWordsIn(line, 0, line.length);
}

/** splitWords of text[from..to), without a string of that line (a restore has 50,000). */
function splitWordsIn(text: string, from: number, to: number): string[] {
  // the common line (what ipvsadm -S writes): ASCII words and blanks, nothing quoted, escaped or
  // commented; anything else goes the character-by-character way
  const words: string[] = [];
  let start = -1;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (start >= 0) words.push(text.slice(start, i));
      start = -1;
    } else if (c === 34 || c === 39 || c === 92 || c === 35 || c >= 128) {
      return splitQuotedWords(text.slice(from, to));
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(text.slice(start, to));
  return words;
}

/** The general splitter: quotes, escapes, comments, any blank. */
export function splitQuotedWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (c === '#' && word === undefined) {
      break;
    } else if (isBlank(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new InputError(`unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Parses one non-empty line (already split into words) into a command. */
export function parseRestoreWords(words: string[]): IpvsCommand {
  const skip = words[0] === 'ipvsadm' ? 1 : 0;
  if (words.length === skip) throw new InputError('no command after "ipvsadm"');
  const head = words[skip];
  let kind = COMMAND_SWITCHES[head];
  let tail: readonly string[] = words;
  let from = skip + 1;
  if (!kind && /^-[AEDaedCZ][^-]/.test(head)) {
    // bundled like "-At 198.18.0.1:80"
    kind = COMMAND_SWITCHES[head.slice(0, 2)];
    tail = ['-' + head.slice(2), ...words.slice(skip + 1)];
    from = 0;
  }
  if (!kind) throw new InputError(`'${head}' is not a command ipvsadm -R accepts (-A -E -D -a -e -d -C -Z --set)`);
  const { options, positional } = readOptions(tail, from);
  if (kind === 'set-timeouts') {
    if (options.length > 0) throw new InputError(`${options[0].flag}: not an option of --set`);
    return { kind, timeouts: buildTimeouts(positional) };
  }
  if (positional.length > 0) throw new InputError(`unexpected argument '${positional[0]}'`);
  return buildCommand(kind, options);
}

/**
 * The key of the service `command` names, made the same object as `previous` when they are equal:
 * a restore's lines are kept until they are sent, and 40,000 copies of 10,000 keys cost the
 * garbage collector more than comparing them.
 */
function shareServiceKey(command: IpvsCommand, previous: ServiceKey | undefined): ServiceKey | undefined {
  switch (command.kind) {
    case 'add-service':
    case 'edit-service':
      return command.service.key;
    case 'delete-service':
    case 'add-server':
    case 'edit-server':
    case 'delete-server':
      if (previous && sameService(command.service, previous)) command.service = previous;
      return command.service;
    default:
      return previous;
  }
}

/** Parses a whole restore input. Throws RestoreError listing every bad line; nothing is applied then. */
export function parseRestore(text: string): RestoreLine[] {
  const out: RestoreLine[] = [];
  const problems: { line: number; message: string }[] = [];
  let previous: ServiceKey | undefined;
  // lines as text.split('\n') gives them, without the array of 50,000 strings
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    try {
      const words = splitWordsIn(text, start, end);
      if (words.length > 0) {
        const command = parseRestoreWords(words);
        previous = shareServiceKey(command, previous);
        out.push({ line, command });
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push({ line, message: err.message });
    }
    start = end + 1;
  }
  if (problems.length > 0) throw new RestoreError(problems);
  return out;
}

/** Raised when the kernel refuses a restore line; by then what the run changed has been undone (or it says what could not be). */
export class RestoreApplyError extends LvsdError {
  constructor(
    message: string,
    readonly line: number,
    /** commands the kernel had carried out when it refused one */
    readonly applied: number,
    /** whether the table was put back as it was before the run */
    readonly undone: boolean,
    options?: { cause?: unknown },
  ) {
    super('LVSD_ERR_RESTORE', message, options);
  }
}

type RestoreTarget = Pick<Ipvs, 'apply' | 'readTable' | 'readTimeouts'>;

function idOf(key: ServiceKey | RealServerKey): string {
  if ('fwmark' in key && key.fwmark !== undefined) return `${key.family} fwmark ${key.fwmark}`;
  return `${key.family} ${'protocol' in key ? key.protocol : ''} ${key.address} ${key.port}`;
}
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What a run may change, read before it starts: the services its lines name (all, with a flush) and the timeouts. */
interface Before {
  /** the ids of the services the run may change; undefined: every service (a flush) */
  services?: ReadonlySet<string>;
  table: Map<string, ServiceEntry>;
  timeouts?: Timeouts;
}

async function readBefore(ipvs: RestoreTarget, ops: readonly IpvsOp[]): Promise<Before> {
  let services: Set<string> | undefined = new Set();
  let timeouts = false;
  for (const op of ops) {
    if (op.kind === 'flush') services = undefined;
    else if (op.kind === 'set-timeouts') timeouts = true;
    else if (services && (op.kind === 'add-service' || op.kind === 'edit-service')) services.add(idOf(op.service.key));
    else if (services && (op.kind === 'delete-service' || op.kind === 'add-server' || op.kind === 'edit-server' || op.kind === 'delete-server')) services.add(idOf(op.service));
  }
  const [table, t] = await Promise.all([ipvs.readTable(), timeouts ? ipvs.readTimeouts() : undefined]);
  const kept = table.filter((e) => !services || services.has(idOf(e.service.key)));
  return { services, table: new Map(kept.map((e) => [idOf(e.service.key), e])), timeouts: t };
}

/** The ops that take the services of `before` from what they are now back to what they were. */
function undoOps(before: Before, now: readonly ServiceEntry[], timeoutsNow: Timeouts | undefined): IpvsOp[] {
  const ops: IpvsOp[] = [];
  const seen = new Set<string>();
  for (const e of now) {
    const id = idOf(e.service.key);
    if (before.services && !before.services.has(id)) continue;
    seen.add(id);
    const was = before.table.get(id);
    if (!was) {
      ops.push({ kind: 'delete-service', service: e.service.key });
      continue;
    }
    if (!same(was.service, e.service)) ops.push({ kind: 'edit-service', service: was.service });
    const wasServers = new Map(was.realServers.map((r) => [idOf(r.server.key), r.server]));
    const nowServers = new Set<string>();
    for (const r of e.realServers) {
      const rid = idOf(r.server.key);
      nowServers.add(rid);
      const old = wasServers.get(rid);
      if (!old) ops.push({ kind: 'delete-server', service: e.service.key, server: r.server.key });
      else if (!same(old, r.server)) ops.push({ kind: 'edit-server', service: e.service.key, server: old });
    }
    for (const [rid, old] of wasServers) if (!nowServers.has(rid)) ops.push({ kind: 'add-server', service: e.service.key, server: old });
  }
  for (const [id, was] of before.table) {
    if (seen.has(id)) continue;
    ops.push({ kind: 'add-service', service: was.service });
    for (const r of was.realServers) ops.push({ kind: 'add-server', service: was.service.key, server: r.server });
  }
  if (before.timeouts && timeoutsNow && !same(before.timeouts, timeoutsNow)) ops.push({ kind: 'set-timeouts', timeouts: before.timeouts });
  return ops;
}

/** Puts the services of `before` back; says whether the table read afterwards matches it. */
async function putBack(ipvs: RestoreTarget, before: Before): Promise<{ undone: boolean; why?: string }> {
  const read = async () => Promise.all([ipvs.readTable(), before.timeouts ? ipvs.readTimeouts() : undefined] as const);
  try {
    const [now, t] = await read();
    const undo = undoOps(before, now, t);
    const result = await ipvs.apply(undo);
    if (result.failed.length > 0) return { undone: false, why: result.failed[0].error.message };
    const [after, t2] = await read();
    const left = undoOps(before, after, t2);
    if (left.length > 0) return { undone: false, why: `${left.length} difference${left.length > 1 ? 's' : ''} remain` };
    return { undone: true };
  } catch (err) {
    return { undone: false, why: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Applies parsed lines in order, in batches (many netlink messages per send), as one
 * transaction. The services the lines name (every service, with a flush) and the timeouts are
 * read first. At the first line the kernel refuses, nothing more is sent, what this run changed
 * is undone (added services and servers deleted, edited or deleted ones put back, timeouts
 * reset), and RestoreApplyError names the line and says whether the table is as before. Counters
 * zeroed by a line stay zeroed, and services put back start with zero counters.
 */
export async function applyRestore(ipvs: RestoreTarget, lines: readonly RestoreLine[], batchSize = 65536): Promise<{ applied: number }> {
  const ops = lines.map((l) => l.command);
  const before = await readBefore(ipvs, ops);
  let applied = 0;
  for (let start = 0; start < lines.length; start += batchSize) {
    const batch = lines.slice(start, start + batchSize);
    const result = await ipvs.apply(ops.slice(start, start + batchSize), { stopOnError: true });
    applied += result.applied;
    if (result.failed.length > 0) {
      const first = result.failed[0];
      const line = batch[first.index].line;
      const { undone, why } = await putBack(ipvs, before);
      const what = `${applied} of ${lines.length} command${lines.length > 1 ? 's' : ''} had been applied`;
      const outcome = undone ? `nothing applied: ${what} and ${applied === 1 ? 'was' : 'were'} undone, the table is as before` : `${what}; undoing them failed (${why}): the table is NOT as before`;
      throw new RestoreApplyError(`line ${line}: ${first.error.message} (${outcome})`, line, applied, undone, { cause: first.error });
    }
  }
  return { applied };
}
