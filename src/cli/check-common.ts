// Option handling shared by every `lvsd check <kind>` subcommand (tcp, http, exec here; mysql in
// ./check-mysql). A subcommand parses its flags with these helpers, builds a Checker and hands it
// to runCheckOnce, which prints the verdict and sets the exit status: 0 up, 1 down, 2 config error.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command, Option } from 'commander';
import { ExecCheck, HttpCheck, MysqlCheck, TcpCheck, defined, normaliseCheck, planCheck, type CheckFile } from '../config/checks';
import { Problems, SchemaValidator } from '../config/validate';
import { ConfigError, InputError } from '../errors';
import { runWithDeadline } from '../health/deadline';
import { createChecker } from '../health/spec';
import type { Checker, CheckResult, CheckTarget } from '../health/types';
import { writeOut } from './output';

export const EXIT_UP = 0;
export const EXIT_DOWN = 1;
export const EXIT_CONFIG = 2;

/** Flags every check subcommand has. */
export interface CommonCheckFlags {
  timeout: string;
  json?: boolean;
}

/** Adds --timeout and --json. */
export function addCommonOptions(cmd: Command, defaultTimeoutMs = 2000): Command {
  return cmd
    .addOption(new Option('--timeout <ms>', 'overall deadline of the check in ms').default(String(defaultTimeoutMs)))
    .option('--json', 'print the result as one JSON object');
}

/** "host:port", "[v6]:port", or a bare host when the kind has a default port. Errors name TARGET. */
export function parseTarget(text: string, defaultPort?: number): CheckTarget {
  const fail = (why: string): never => {
    throw new InputError(`TARGET "${text}": ${why}`);
  };
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
    if (isIP(host) !== 6) fail(`"${host}" is not an IPv6 address`);
  } else if (isIP(text) === 6) {
    host = text; // a bare IPv6 address, no port
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
    if (host.length === 0) fail('the host is missing');
    if (!isIP(host) && !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
      fail(`"${host}" is neither an IP address nor a host name`);
    }
  }
  if (portText === undefined || portText === '') {
    if (defaultPort === undefined) fail('the port is missing (write HOST:PORT, or [IPv6]:PORT)');
    return { host, port: defaultPort as number };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    fail(`port "${portText}" must be a number from 1 to 65535`);
  }
  return { host, port: Number(portText) };
}

/** An integer flag within [min, max]; the error names the flag. */
export function parseIntFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new InputError(`${flag}: must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

export function parseTimeout(flags: CommonCheckFlags): number {
  return parseIntFlag(flags.timeout, '--timeout', 1, 3_600_000);
}

/** A regular expression flag (no delimiters); the error names the flag. */
export function parseRegexFlag(value: string, flag: string): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new InputError(`${flag}: not a valid regular expression: ${(err as Error).message}`);
  }
}

/** "\r\n", "\t", "\\" and "\xNN" in a text flag, so protocols can be spoken from the shell. */
export function parseEscapes(value: string, flag: string): string {
  return value.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, e: string) => {
    if (e === 'n') return '\n';
    if (e === 'r') return '\r';
    if (e === 't') return '\t';
    if (e === '0') return '\0';
    if (e === '\\') return '\\';
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    throw new InputError(`${flag}: unknown escape "\\${e}" (use \\n \\r \\t \\0 \\\\ or \\xNN)`);
  });
}

/** Reads a file named by a flag; the error names the flag and the file. */
export function readFileFlag(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(`${flag}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const CHECK_SCHEMAS = { tcp: TcpCheck, http: HttpCheck, mysql: MysqlCheck, exec: ExecCheck };

/**
 * Builds a checker from flags through the same schema and checks as a check in the director's
 * config (src/config/checks.ts): `fields` are the config's keys (snake_case, values as flag
 * strings; integers are coerced), `flags` names the flag of each key for the errors
 * ("max_read_bytes" -> "--max-read"; "tls.servername" -> "--servername"); every problem is
 * reported at once. `checkFiles: false` leaves reading the files to the checker.
 */
export function checkerFromFlags(
  kind: CheckFile['type'],
  target: CheckTarget,
  fields: Record<string, unknown>,
  flags: Record<string, string>,
  options: { checkFiles: boolean },
): Checker {
  const problems = new Problems({
    describe(path, message) {
      const key = path.filter((seg) => typeof seg === 'string').join('.');
      const flag = flags[key] ?? flags[String(path[0])] ?? (path.length ? `--${String(path[0]).replace(/_/g, '-')}` : undefined);
      return { text: flag === undefined ? message : `${flag}: ${message}`, offset: 0 };
    },
  });
  const data: Record<string, unknown> = { type: kind, ...defined(fields) };
  const valid = new SchemaValidator(CHECK_SCHEMAS[kind], { coerceTypes: true }).validate(data, problems);
  let check;
  try {
    check = normaliseCheck(data as CheckFile, [], problems, options);
  } catch (err) {
    if (valid || !(err instanceof TypeError)) throw err; // else: a malformed value the schema reported
  }
  problems.throwIfAny();
  if (!check) throw new InputError('invalid check options'); // not reached: the schema's problems were thrown
  return createChecker(planCheck(check, target, {}).spec);
}

/** Exit status for a result. */
export function exitCodeFor(result: CheckResult): number {
  if (result.configError) return EXIT_CONFIG;
  return result.ok ? EXIT_UP : EXIT_DOWN;
}

/** Runs `checker` once within `timeoutMs`, prints the verdict, sets the exit status. */
export async function runCheckOnce(checker: Checker, timeoutMs: number, flags: CommonCheckFlags): Promise<CheckResult> {
  const result = await runWithDeadline(checker, timeoutMs);
  const verdict = result.configError ? 'config-error' : result.ok ? 'up' : 'down';
  if (flags.json) {
    writeOut(JSON.stringify({ verdict, reason: result.reason, latencyMs: result.latencyMs, weight: result.weight }) + '\n');
  } else {
    writeOut(`${verdict}: ${result.reason}\n`);
  }
  process.exitCode = exitCodeFor(result);
  return result;
}

/**
 * Wraps a subcommand action: bad input prints "lvsd: <message naming the flag>" and exits 2
 * (a configuration error), like every other configuration error of a check.
 */
export function checkAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const lines = err instanceof ConfigError ? err.errors : [err.message];
      process.stderr.write(lines.map((line) => `lvsd: ${line}\n`).join(''));
      process.exitCode = EXIT_CONFIG;
    }
  };
}
