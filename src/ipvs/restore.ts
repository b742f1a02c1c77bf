// Reads `ipvsadm -R` input (what `ipvsadm -S` writes, and any ipvsadm command line, optionally
// starting with "ipvsadm"): the whole input is checked first and every problem names its line;
// only a fully valid input yields commands to apply.
import { InputError, LvsdError } from '../errors';
import type { IpvsClient, RealServer, ServiceKey } from './types';
import { buildCommand, buildTimeouts, type GivenOption, type IpvsCommand } from './command';
import { COMMAND_OPTIONS, type CommandKind, type OptionSpec } from './options';

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

/** Every option ipvsadm's restore lines may carry, by long name and by short letter. */
const ALL_OPTIONS: readonly OptionSpec[] = [...new Map(Object.values(COMMAND_OPTIONS).flat().map((o) => [o.long, o])).values()];
const BY_LONG = new Map(ALL_OPTIONS.map((o) => [o.long, o]));
const BY_SHORT = new Map(ALL_OPTIONS.filter((o) => o.short).map((o) => [o.short!, o]));

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
  // the common line (what ipvsadm -S writes): ASCII words and blanks, nothing quoted, escaped or
  // commented; anything else goes the character-by-character way
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) {
      if (start >= 0) words.push(line.slice(start, i));
      start = -1;
    } else if (c === 34 || c === 39 || c === 92 || c === 35 || c >= 128) {
      return splitQuotedWords(line);
    } else if (start < 0) start = i;
  }
  if (start >= 0) words.push(line.slice(start));
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

/** Reads options from words[from..]: long (--x, --x=v), short (-x v, -xv), bundled (-gw 2). */
function readOptions(words: readonly string[], from: number): { options: GivenOption[]; positional: string[] } {
  const options: GivenOption[] = [];
  const positional: string[] = [];
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
      positional.push(w);
    }
  }
  return { options, positional };
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

// The lines ipvsadm -S writes for plain TCP/UDP IPv4 services and their real servers, read in
// place (no line string, no word list, no option list: a restore has 50,000 of them):
//   -A -t|-u A.B.C.D:PORT -s SCHED
//   -a -t|-u A.B.C.D:PORT -r A.B.C.D[:PORT] -g|-i|-m -w WEIGHT
// A sticky regular expression checks the whole line (native code from the first lines on, where
// a JavaScript loop over characters runs interpreted for a while: slow under emulation), then
// the fields are found by position. Only what buildCommand accepts is read, giving what it gives
// (the property tests compare them); any other line, or a value it would refuse, goes the
// general way, which then names the problem.
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'; // as parseIPv4: no leading zeros
const IPV4 = `${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}`;
const COMMON_SERVICE = new RegExp(`-A -[tu] ${IPV4}:[0-9]{1,5} -s [A-Za-z0-9_-]{1,15}$`, 'my');
const COMMON_SERVER = new RegExp(`-a -[tu] ${IPV4}:[0-9]{1,5} -r ${IPV4}(?::[0-9]{1,5})? -[gim] -w [0-9]{1,5}$`, 'my');

/** Whether `re` matches text from `start` exactly to `end` (multiline $ also stops at \r). */
function matchesLine(re: RegExp, text: string, start: number, end: number): boolean {
  re.lastIndex = start;
  return re.test(text) && re.lastIndex === end;
}

/** The decimal digits text[from..to) (already checked to be 1..5 digits). */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) n = n * 10 + text.charCodeAt(k) - 48;
  return n;
}

// Consecutive lines naming one service share its (frozen) key, as buildCommand's do.
let lastService: { text: string; protocol: 'tcp' | 'udp'; key: ServiceKey & { port: number } } | undefined;
let lastScheduler = '';

/** The key of the checked service "-t|-u A.B.C.D:PORT" at `at` (its port may be above 65535). */
function serviceAt(text: string, at: number): ServiceKey & { port: number } {
  const protocol = text.charCodeAt(at + 1) === 116 /* t */ ? 'tcp' : 'udp';
  const from = at + 3;
  const colon = text.indexOf(':', from);
  const blank = text.indexOf(' ', colon);
  const last = lastService;
  if (last && last.protocol === protocol && blank - from === last.text.length && text.startsWith(last.text, from)) return last.key;
  const key = Object.freeze({ family: 'inet' as const, protocol, address: text.slice(from, colon), port: digitsAt(text, colon + 1, blank) });
  lastService = { text: text.slice(from, blank), protocol, key };
  return key;
}

/** The command of a line text[start..end) of one of the shapes above, else undefined. */
export function parseCommonLine(text: string, start = 0, end = text.length): IpvsCommand | undefined {
  const c = text.charCodeAt(start + 1);
  if (c === 65 /* A */ && matchesLine(COMMON_SERVICE, text, start, end)) {
    const key = serviceAt(text, start + 3);
    if (key.port === 0 || key.port > 65535) return undefined;
    const from = text.indexOf(' -s ', start + 3) + 4;
    if (lastScheduler.length !== end - from || !text.startsWith(lastScheduler, from)) lastScheduler = text.slice(from, end);
    return { kind: 'add-service', service: { key, scheduler: lastScheduler, flags: 0, timeout: 0, netmask: '255.255.255.255' } };
  }
  if (c === 97 /* a */ && matchesLine(COMMON_SERVER, text, start, end)) {
    const service = serviceAt(text, start + 3);
    const from = text.indexOf(' -r ', start + 3) + 4;
    const flag = text.indexOf(' -', from);
    const colon = text.indexOf(':', from);
    const hostEnd = colon >= 0 && colon < flag ? colon : flag;
    const port = hostEnd === colon ? digitsAt(text, colon + 1, flag) : service.port;
    const weight = digitsAt(text, flag + 7, end);
    if (service.port > 65535 || port > 65535 || weight > 65535) return undefined;
    const f = text.charCodeAt(flag + 2);
    const forward = f === 103 /* g */ ? 'route' : f === 105 /* i */ ? 'tunnel' : 'masq';
    // direct routing and tunnels always get the service's port
    const server: RealServer = {
      key: { family: 'inet', address: text.slice(from, hostEnd), port: forward === 'masq' ? port : service.port },
      forward,
      weight,
      upperThreshold: 0,
      lowerThreshold: 0,
    };
    if (forward === 'tunnel') server.tunnelType = 'ipip';
    return { kind: 'add-server', service, server };
  }
  return undefined;
}

/** Parses a whole restore input. Throws RestoreError listing every bad line; nothing is applied then. */
export function parseRestore(text: string): RestoreLine[] {
  const out: RestoreLine[] = [];
  const problems: { line: number; message: string }[] = [];
  // lines as text.split('\n') gives them, without the array of 50,000 strings
  for (let start = 0, line = 1; start <= text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    try {
      const common = parseCommonLine(text, start, end);
      if (common) out.push({ line, command: common });
      else {
        const words = splitWords(text.slice(start, end));
        if (words.length > 0) out.push({ line, command: parseRestoreWords(words) });
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

/** Raised when the kernel refuses a restore line. */
export class RestoreApplyError extends LvsdError {
  constructor(message: string, readonly line: number, readonly applied: number, options?: { cause?: unknown }) {
    super('LVSD_ERR_RESTORE', message, options);
  }
}

/**
 * Applies parsed lines in order, in batches (many netlink messages per send). Stops at the first
 * line the kernel refuses and throws RestoreApplyError naming it: lines before it are applied,
 * lines after it that were already sent in the same batch may be too (the error counts them).
 */
export async function applyRestore(
  client: Pick<IpvsClient, 'apply'>,
  lines: readonly RestoreLine[],
  batchSize = 65536,
): Promise<{ applied: number }> {
  let applied = 0;
  for (let start = 0; start < lines.length; start += batchSize) {
    const batch = lines.slice(start, start + batchSize);
    const result = await client.apply(
      batch.map((l) => l.command),
      { stopOnError: true },
    );
    applied += result.applied;
    if (result.failed.length > 0) {
      const first = result.failed[0];
      const line = batch[first.index].line;
      const others = result.failed.length - 1;
      const more = others > 0 ? `; ${others} more line${others > 1 ? 's' : ''} of the same batch failed` : '';
      throw new RestoreApplyError(
        `line ${line}: ${first.error.message} (${applied} of ${lines.length} commands applied${more})`,
        line,
        applied,
        { cause: first.error },
      );
    }
  }
  return { applied };
}
