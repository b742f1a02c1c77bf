// `lvsd check tcp|http|exec TARGET [options]`: run one check once, print the verdict and reason.
// Exit 0 up, 1 down, 2 configuration error (bad flags included). The operator's debugging tool.
import { Command, CommanderError } from 'commander';
import { ExecChecker } from '../health/exec';
import { HttpChecker, parseStatusRanges } from '../health/http';
import { TcpChecker } from '../health/tcp';
import { InputError } from '../errors';
import { register as registerMysql } from './check-mysql';
import {
  EXIT_CONFIG,
  addCommonOptions,
  checkAction,
  parseEscapes,
  parseIntFlag,
  parseRegexFlag,
  parseTarget,
  parseTimeout,
  readFileFlag,
  runCheckOnce,
  type CommonCheckFlags,
} from './check-common';

export function register(program: Command): void {
  const check = program
    .command('check')
    .description('run one health check once and print the verdict (exit 0 up, 1 down, 2 configuration error)')
    // Usage errors are configuration errors too: exit 2, except for --help.
    .exitOverride((err) => {
      if (err.exitCode === 0) throw err;
      throw new CommanderError(EXIT_CONFIG, err.code, err.message);
    });
  registerTcp(check);
  registerHttp(check);
  registerExec(check);
  registerMysql(check); // ./check-mysql, owned by the MySQL checker's author
}

interface TcpFlags extends CommonCheckFlags {
  send?: string;
  expect?: string;
  expectRegex?: string;
  maxRead: string;
}

function registerTcp(check: Command): void {
  const cmd = check
    .command('tcp')
    .description('connect; optionally send a string and expect a reply')
    .argument('<target>', 'HOST:PORT or [IPv6]:PORT')
    .option('--send <text>', 'send this once connected (escapes: \\r \\n \\t \\0 \\\\ \\xNN)')
    .option('--expect <text>', 'the reply must contain this text (same escapes)')
    .option('--expect-regex <regex>', 'the reply must match this regular expression')
    .option('--max-read <bytes>', 'read at most this many bytes of the reply', '4096');
  addCommonOptions(cmd, 1000).action(
    checkAction(async (targetText: string, flags: TcpFlags) => {
      const target = parseTarget(targetText);
      if (flags.expect !== undefined && flags.expectRegex !== undefined) {
        throw new InputError('--expect and --expect-regex: give one of them, not both');
      }
      const expect =
        flags.expectRegex !== undefined
          ? parseRegexFlag(flags.expectRegex, '--expect-regex')
          : flags.expect !== undefined
            ? parseEscapes(flags.expect, '--expect')
            : undefined;
      const checker = new TcpChecker({
        ...target,
        send: flags.send === undefined ? undefined : parseEscapes(flags.send, '--send'),
        expect,
        maxReadBytes: parseIntFlag(flags.maxRead, '--max-read', 1, 1 << 20),
      });
      await runCheckOnce(checker, parseTimeout(flags), flags);
    }),
  );
}

interface HttpFlags extends CommonCheckFlags {
  https?: boolean;
  method: string;
  path: string;
  hostHeader?: string;
  expectStatus: string;
  bodyRegex?: string;
  maxResponse: string;
  ca?: string;
  sni?: string;
  insecureSkipTlsVerify?: boolean;
}

const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'];

function registerHttp(check: Command): void {
  const cmd = check
    .command('http')
    .description('one HTTP(S) request: expected status codes, optional body pattern')
    .argument('<target>', 'HOST[:PORT] or [IPv6][:PORT] (default port 80, or 443 with --https)')
    .option('--https', 'use TLS (certificate verified)')
    .option('--method <method>', `request method (${METHODS.join(', ')})`, 'GET')
    .option('--path <path>', 'request path, starting with /', '/')
    .option('--host-header <name>', 'Host header (default: the target)')
    .option('--expect-status <list>', 'accepted status codes, e.g. 200-299,301', '200-299')
    .option('--body-regex <regex>', 'the body must match this regular expression')
    .option('--max-response <bytes>', 'read at most this many body bytes', '65536')
    .option('--ca <file>', 'PEM CA certificates to verify the server against (default: system store)')
    .option('--sni <name>', 'TLS server name (default: the Host header name)')
    .option('--insecure-skip-tls-verify', 'DANGEROUS: accept any server certificate');
  addCommonOptions(cmd, 2000).action(
    checkAction(async (targetText: string, flags: HttpFlags) => {
      const tls = flags.https === true;
      if (!tls) {
        for (const [flag, set] of [['--ca', flags.ca], ['--sni', flags.sni], ['--insecure-skip-tls-verify', flags.insecureSkipTlsVerify]] as const) {
          if (set !== undefined) throw new InputError(`${flag}: only meaningful with --https`);
        }
      }
      if (flags.ca !== undefined && flags.insecureSkipTlsVerify) {
        throw new InputError('--ca and --insecure-skip-tls-verify: give one of them, not both');
      }
      const method = flags.method.toUpperCase();
      if (!METHODS.includes(method)) throw new InputError(`--method: must be one of ${METHODS.join(', ')}, got "${flags.method}"`);
      if (!/^\/[\x21-\x7e]*$/.test(flags.path)) {
        throw new InputError(`--path: must start with / and hold no spaces or control characters, got "${flags.path}"`);
      }
      if (flags.hostHeader !== undefined && !/^[\x21-\x7e]+$/.test(flags.hostHeader)) {
        throw new InputError(`--host-header: must be non-empty without spaces or control characters, got "${flags.hostHeader}"`);
      }
      if (flags.sni !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(flags.sni)) {
        throw new InputError(`--sni: must be a DNS name, got "${flags.sni}"`);
      }
      let expectStatus;
      try {
        expectStatus = parseStatusRanges(flags.expectStatus);
      } catch (err) {
        throw new InputError(`--expect-status: ${(err as Error).message}`);
      }
      if (flags.insecureSkipTlsVerify) {
        process.stderr.write('lvsd: warning: --insecure-skip-tls-verify: the server certificate is NOT verified\n');
      }
      const checker = new HttpChecker({
        ...parseTarget(targetText, tls ? 443 : 80),
        tls,
        method,
        path: flags.path,
        hostHeader: flags.hostHeader,
        expectStatus,
        bodyRegex: flags.bodyRegex === undefined ? undefined : parseRegexFlag(flags.bodyRegex, '--body-regex'),
        maxResponseBytes: parseIntFlag(flags.maxResponse, '--max-response', 1, 16 << 20),
        ca: flags.ca === undefined ? undefined : readFileFlag(flags.ca, '--ca'),
        sni: flags.sni,
        insecureSkipTlsVerify: flags.insecureSkipTlsVerify === true,
      });
      await runCheckOnce(checker, parseTimeout(flags), flags);
    }),
  );
}

interface ExecFlags extends CommonCheckFlags {
  dynamicWeight?: boolean;
  env: string[];
  maxOutput: string;
  killGrace: string;
  user?: string;
}

function registerExec(check: Command): void {
  const cmd = check
    .command('exec')
    .description('run a program (keepalived MISC_CHECK): exit 0 up; target in LVSD_TARGET_HOST/PORT')
    .argument('<target>', 'HOST:PORT passed to the program as LVSD_TARGET_HOST and LVSD_TARGET_PORT')
    .argument('<program>', 'absolute path of the program (run without a shell)')
    .argument('[args...]', 'arguments (put -- before arguments that start with -)')
    .option('--dynamic-weight', 'exit 2..255 means up with weight code-2 (keepalived misc_dynamic)')
    .option('--env <KEY=VALUE>', 'extra environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--max-output <bytes>', 'output bytes kept for the reason', '4096')
    .option('--kill-grace <ms>', 'between SIGTERM and SIGKILL at the deadline', '1000')
    .option('--user <name>', 'run the program as this user (name or uid), not as lvsd\'s own user');
  addCommonOptions(cmd, 5000).action(
    checkAction(async (targetText: string, program: string, args: string[], flags: ExecFlags) => {
      const env: Record<string, string> = {};
      for (const pair of flags.env) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
        if (!m) throw new InputError(`--env: expected KEY=VALUE with KEY made of letters, digits and _, got "${pair.split('=')[0]}=..."`);
        if (m[1].startsWith('LVSD_TARGET')) throw new InputError(`--env: ${m[1]} is set by lvsd itself`);
        env[m[1]] = m[2];
      }
      if (!program.startsWith('/')) throw new InputError(`PROGRAM "${program}": must be an absolute path`);
      const checker = new ExecChecker({
        ...parseTarget(targetText),
        path: program,
        args,
        env,
        dynamicWeight: flags.dynamicWeight === true,
        maxOutputBytes: parseIntFlag(flags.maxOutput, '--max-output', 1, 1 << 20),
        killGraceMs: parseIntFlag(flags.killGrace, '--kill-grace', 0, 60_000),
        user: flags.user,
      });
      await runCheckOnce(checker, parseTimeout(flags), flags);
    }),
  );
}
