// MySQL/MariaDB check: authenticated login, one role query, clean COM_QUIT.
// The probe's socket is destroyed when the signal aborts. Role rules live in mysql/roles.ts,
// error classification in mysql/classify.ts, the client library behind mysql/adapter.ts.
import { readFileSync } from 'node:fs';
import type pino from 'pino';
import { InputError } from '../errors';
import { logger } from '../log';
import { deadlineOf, elapsedMs } from './deadline';
import { formatTarget, paramsHash } from './describe';
import { MysqlProbe, toDriverError, type MysqlLogin } from './mysql/adapter';
import { classifyFailure, timeoutReason } from './mysql/classify';
import { describePasswordSource, loadPassword, type PasswordSource } from './mysql/credentials';
import { roleQuery, roleVerdict, type Role, type RoleOptions } from './mysql/roles';
import type { Checker, CheckResult, CheckTarget } from './types';

export interface MysqlCheckOptions extends CheckTarget {
  user: string;
  password: PasswordSource;
  role?: Role;
  /** replica role: highest acceptable lag in seconds (default 5) */
  maxLagSeconds?: number;
  /** galera role: a Donor/Desynced node still serves (default false) */
  acceptDonor?: boolean;
  /** TLS with certificate verification; caFile replaces the system CAs */
  tls?: { caFile?: string; servername?: string };
  /** PEM file of the server's RSA key (caching_sha2_password full auth without TLS) */
  serverPublicKeyFile?: string;
  log?: pino.Logger;
}

export const DEFAULT_MAX_LAG_SECONDS = 5;

export class MysqlChecker implements Checker {
  readonly kind = 'mysql' as const;
  readonly key: string;
  // A #private field: the password never shows in util.inspect, JSON.stringify or a debugger dump.
  readonly #login: MysqlLogin;
  private readonly roleOptions: RoleOptions;
  private readonly log: pino.Logger;

  /** Reads the password, CA and key files now, so a bad setup fails at configuration time. */
  constructor(options: MysqlCheckOptions) {
    if (options.user === '') throw new InputError('mysql check: the user name is empty');
    const maxLagSeconds = options.maxLagSeconds ?? DEFAULT_MAX_LAG_SECONDS;
    if (!Number.isFinite(maxLagSeconds) || maxLagSeconds < 0) {
      throw new InputError(`mysql check: max lag ${maxLagSeconds} is not a number of seconds >= 0`);
    }
    this.roleOptions = { role: options.role ?? 'any', maxLagSeconds, acceptDonor: options.acceptDonor ?? false };
    this.#login = {
      host: options.host,
      port: options.port,
      user: options.user,
      password: loadPassword(options.password),
      tls: options.tls && {
        ca: options.tls.caFile === undefined ? undefined : readPem(options.tls.caFile, 'CA file'),
        servername: options.tls.servername,
      },
      serverPublicKey:
        options.serverPublicKeyFile === undefined ? undefined : readPem(options.serverPublicKeyFile, 'server public key file'),
    };
    // Everything that changes the probe, nothing secret: the password is named by its source only.
    this.key = ['mysql:', options.user, '@', formatTarget(options), ':', paramsHash([
      this.roleOptions,
      describePasswordSource(options.password),
      options.tls ?? null,
      options.serverPublicKeyFile ?? null,
    ])].join('');
    this.log = options.log ?? logger('health.mysql');
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    const startedAt = performance.now();
    const probe = new MysqlProbe();
    return new Promise<CheckResult>((resolve) => {
      let settled = false;
      const finish = (result: CheckResult): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => {
        const phase = probe.phase;
        probe.destroy();
        const ms = deadlineOf(signal) ?? Math.round(performance.now() - startedAt);
        finish(this.report({ ok: false, reason: timeoutReason(phase, ms), latencyMs: elapsedMs(startedAt) }));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.probe(probe, startedAt).then(finish, (err: unknown) => {
        // not expected: probe() catches everything; still never leave the socket open
        probe.destroy();
        finish(this.report({ ok: false, configError: true, reason: `mysql checker failed: ${toDriverError(err).message}`, latencyMs: elapsedMs(startedAt) }));
      });
    });
  }

  private async probe(probe: MysqlProbe, startedAt: number): Promise<CheckResult> {
    try {
      const server = await probe.login(this.#login);
      const rows = await probe.query(roleQuery(this.roleOptions.role, server));
      const verdict = roleVerdict(this.roleOptions, rows);
      const latencyMs = elapsedMs(startedAt);
      // COM_QUIT goes out and the socket closes within a tick, without waiting for the server:
      // the verdict is known and must not be turned into a timeout by a deadline during the quit.
      void probe.quit();
      return this.report({ ok: verdict.ok, reason: verdict.reason, latencyMs });
    } catch (err) {
      const phase = probe.phase; // where it failed: connect, greeting, login or query
      probe.destroy();
      const failure = classifyFailure(toDriverError(err), phase, this.#login.tls !== undefined);
      const result: CheckResult = { ok: false, reason: failure.reason, latencyMs: elapsedMs(startedAt) };
      if (failure.configError) result.configError = true;
      return this.report(result);
    }
  }

  private report(result: CheckResult): CheckResult {
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ check: this.key, ok: result.ok, configError: result.configError ?? false, latencyMs: result.latencyMs }, result.reason);
    }
    return result;
  }
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
