// exec check with keepalived MISC_CHECK semantics: run a program (absolute path, no shell) with
// the target in its environment. Exit 0 is up; with dynamic weight, exit 2..255 is up with weight
// code - 2 and exit 1 is down. On timeout its whole process group gets SIGTERM, then SIGKILL.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { InputError } from '../errors';
import { abortedAfter, elapsedMs } from './deadline';
import { formatTarget, paramsHash, quote } from './describe';
import type { Checker, CheckResult, CheckTarget } from './types';

export interface ExecCheckOptions extends CheckTarget {
  /** absolute path of the program */
  path: string;
  args?: readonly string[];
  /** extra environment; the program gets only PATH, these and LVSD_TARGET_* (not lvsd's own) */
  env?: Readonly<Record<string, string>>;
  /** exit 2..255 sets the weight to code - 2 (keepalived misc_dynamic) */
  dynamicWeight?: boolean;
  /** output kept for the reason (default 4096 bytes); the rest is read and dropped */
  maxOutputBytes?: number;
  /** between SIGTERM and SIGKILL at the deadline (default 1000 ms) */
  killGraceMs?: number;
  /** run the program as this user (name or uid from /etc/passwd), with its primary group only */
  user?: string;
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ExecChecker implements Checker {
  readonly kind = 'exec' as const;
  readonly key: string;
  private readonly env: Record<string, string>;
  private readonly maxOutputBytes: number;
  private readonly runAs?: { uid: number; gid: number };

  constructor(private readonly options: ExecCheckOptions) {
    if (!isAbsolute(options.path)) {
      throw new InputError(`exec check program must be an absolute path, got "${options.path}"`);
    }
    this.maxOutputBytes = options.maxOutputBytes ?? 4096;
    if (options.user !== undefined) this.runAs = lookupUser(options.user);
    // lvsd's own environment may hold secrets (MySQL passwords): pass none of it.
    this.env = {
      PATH: SAFE_PATH,
      ...options.env,
      LVSD_TARGET_HOST: options.host,
      LVSD_TARGET_PORT: String(options.port),
      LVSD_TARGET: formatTarget(options),
    };
    this.key = ['exec', formatTarget(options), paramsHash([
      options.path,
      options.args ?? [],
      options.env ?? {},
      options.dynamicWeight === true,
      this.maxOutputBytes,
      options.user ?? '',
    ])].join(':');
  }

  async run(signal: AbortSignal): Promise<CheckResult> {
    const startedAt = performance.now();
    const refusal = await scriptSecurityRefusal(this.options.path);
    if (refusal) return { ok: false, configError: true, reason: refusal, latencyMs: elapsedMs(startedAt) };
    if (signal.aborted) return { ok: false, reason: `timeout ${abortedAfter(signal, startedAt)} before start`, latencyMs: elapsedMs(startedAt) };
    return this.spawnAndWait(signal, startedAt);
  }

  private spawnAndWait(signal: AbortSignal, startedAt: number): Promise<CheckResult> {
    const { path, args = [], dynamicWeight, killGraceMs = 1000 } = this.options;
    return new Promise<CheckResult>((resolve) => {
      let output = '';
      let outputBytes = 0;
      let settled = false;
      // detached: the program leads a new process group, so the deadline can kill its children too.
      // With uid/gid, libuv also drops the supplementary groups before exec.
      const child = spawn(path, args, { detached: true, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false, ...this.runAs });
      const pgid = child.pid;
      const collect = (chunk: Buffer): void => {
        outputBytes += chunk.length;
        if (output.length < this.maxOutputBytes) output += chunk.toString('utf8', 0, Math.min(chunk.length, this.maxOutputBytes - output.length));
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);

      const finish = (result: Omit<CheckResult, 'latencyMs'>): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        // Leftovers holding our pipes (a backgrounded grandchild) must not keep descriptors open.
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ ...result, latencyMs: elapsedMs(startedAt) });
      };
      const onAbort = (): void => {
        killGroup(pgid, 'SIGTERM');
        // The result is due now; the SIGKILL follows on its own timer.
        setTimeout(() => killGroup(pgid, 'SIGKILL'), killGraceMs).unref();
        finish({ ok: false, reason: `timeout ${abortedAfter(signal, startedAt)}: process group ${pgid ?? '?'} killed` });
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        // spawn failures (ENOENT, EACCES) are the operator's configuration, not the server's state
        finish({ ok: false, configError: true, reason: `cannot run ${path}: ${err.code ?? err.message}` });
      });
      child.on('exit', (code, sig) => {
        // Anything the program left running in its group is part of this check and ends with it.
        killGroup(pgid, 'SIGKILL');
        const said = output.trim() ? `: ${quote(lastLine(output), 200)}` : '';
        const flood = outputBytes > this.maxOutputBytes ? ` (${outputBytes} bytes of output, kept ${this.maxOutputBytes})` : '';
        if (sig) return finish({ ok: false, reason: `killed by ${sig}${said}${flood}` });
        if (code === 0) return finish({ ok: true, reason: `exit 0${said}${flood}` });
        if (dynamicWeight && code !== null && code >= 2 && code <= 255) {
          return finish({ ok: true, weight: code - 2, reason: `exit ${code}: weight ${code - 2}${said}${flood}` });
        }
        finish({ ok: false, reason: `exit ${code ?? '?'}${said}${flood}` });
      });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A user name or numeric uid from /etc/passwd, so a check never runs as a user that does not exist. */
export function lookupUser(user: string): { uid: number; gid: number } {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch (err) {
    throw new InputError(`exec check user "${user}": cannot read /etc/passwd (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (uid === undefined || gid === undefined) continue;
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new InputError(`exec check user "${user}": no such user in /etc/passwd`);
}

function killGroup(pgid: number | undefined, sig: NodeJS.Signals): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/**
 * keepalived's enable_script_security, always on when lvsd runs as root: the program and every
 * directory above it must be owned by root and not writable by group or others, else a non-root
 * user could make root run their code.
 */
export async function scriptSecurityRefusal(path: string): Promise<string | undefined> {
  if (!isAbsolute(path)) return `refusing to run "${path}": the path must be absolute`;
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    return `cannot run ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`;
  }
  if (!st.isFile()) return `cannot run ${path}: not a regular file`;
  if ((st.mode & 0o111) === 0) return `cannot run ${path}: not executable (mode ${mode(st.mode)})`;
  if (process.getuid?.() !== 0) return undefined;
  for (let p = path; ; p = dirname(p)) {
    const s = p === path ? st : await stat(p);
    if (s.uid !== 0) return `refusing to run ${path} as root: ${p} is owned by uid ${s.uid}, not root`;
    // A writable sticky directory (like /tmp) is fine above: others cannot rename root's entries in it.
    const sticky = p !== path && (s.mode & 0o1000) !== 0;
    if ((s.mode & 0o022) !== 0 && !sticky) {
      return `refusing to run ${path} as root: ${p} is writable by group or others (mode ${mode(s.mode)})`;
    }
    if (p === '/') break;
  }
  return undefined;
}

function mode(m: number): string {
  return '0' + (m & 0o7777).toString(8);
}
