// `lvsd check tcp|http|exec TARGET [options]`: run one check once, print the verdict and reason.
// Exit 0 up, 1 down, 2 configuration error (bad flags included). The operator's debugging tool.
import { Command, CommanderError } from 'commander';
import { InputError } from '../errors';
import { register as registerMysql } from './check-mysql';
import {
  EXIT_CONFIG,
  addCommonOptions,
  checkAction,
  checkerFromFlags,
  parseEscapes,
  parseIntFlag,
  parseTarget,
  parseTimeout,
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
      const checker = checkerFromFlags(
        'tcp',
        target,
        {
          send: flags.send === undefined ? undefined : parseEscapes(flags.send, '--send'),
          expect: flags.expect === undefined ? undefined : parseEscapes(flags.expect, '--expect'),
          expect_regex: flags.expectRegex,
          max_read_bytes: flags.maxRead,
        },
        { expect_regex: '--expect-regex', max_read_bytes: '--max-read' },
        { checkFiles: true },
      );
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
      const checker = checkerFromFlags(
        'http',
        parseTarget(targetText, tls ? 443 : 80),
        {
          tls,
          method: flags.method.toUpperCase(),
          path: flags.path,
          host_header: flags.hostHeader,
          expect_status: [flags.expectStatus],
          body_regex: flags.bodyRegex,
          max_response_bytes: flags.maxResponse,
          ca_file: flags.ca,
          sni: flags.sni,
          insecure_skip_tls_verify: flags.insecureSkipTlsVerify === true,
        },
        { tls: '--https', max_response_bytes: '--max-response', ca_file: '--ca' },
        { checkFiles: true },
      );
      if (flags.insecureSkipTlsVerify) {
        process.stderr.write('lvsd: warning: --insecure-skip-tls-verify: the server certificate is NOT verified\n');
      }
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
        env[m[1]] = m[2];
      }
      if (!program.startsWith('/')) throw new InputError(`PROGRAM "${program}": must be an absolute path`);
      const checker = checkerFromFlags(
        'exec',
        parseTarget(targetText),
        {
          path: program,
          args,
          env,
          dynamic_weight: flags.dynamicWeight === true,
          max_output_bytes: flags.maxOutput,
          kill_grace: `${parseIntFlag(flags.killGrace, '--kill-grace', 0, 60_000)}ms`,
          user: flags.user,
        },
        { path: 'PROGRAM', args: 'ARGS', max_output_bytes: '--max-output', kill_grace: '--kill-grace' },
        { checkFiles: true },
      );
      await runCheckOnce(checker, parseTimeout(flags), flags);
    }),
  );
}
