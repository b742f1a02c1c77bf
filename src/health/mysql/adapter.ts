// The only file that knows the MySQL client library (mariadb connector). The checker sees a
// probe with four steps: login, query, quit, destroy; errors come out as plain DriverError data.
//
// We open the TCP socket ourselves and hand it to the library (its `stream` option), so the
// checker always holds the fd: destroy() closes it whatever state the library is in, and we
// know which phase (connect, greeting, login, query) a deadline interrupted.
import { Socket } from 'node:net';
import * as mariadb from 'mariadb';

export interface MysqlTls {
  /** PEM text of the CA bundle to verify the server with; system CAs when absent */
  ca?: string;
  /** name to verify the certificate against (and SNI) instead of the target host */
  servername?: string;
}

export interface MysqlLogin {
  host: string;
  port: number;
  user: string;
  password: string;
  tls?: MysqlTls;
  /** PEM of the server's RSA key, for caching_sha2_password full authentication without TLS */
  serverPublicKey?: string;
}

/** Where a probe is: a deadline reports the phase it interrupted. */
export type Phase = 'connect' | 'greeting' | 'login' | 'query' | 'quit' | 'closed';

export interface ServerInfo {
  mariadb: boolean;
  major: number;
  minor: number;
  patch: number;
  /** the version string from the greeting */
  version: string;
}

/** A failure in library-neutral terms. Never carries the login. */
export interface DriverError {
  /** server ERR packet code (1045, 1040, ...) */
  serverErrno?: number;
  /** client-side failure detected by the library (auth plugin, TLS, protocol) */
  client?: ClientFault;
  /** Node socket / TLS error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, ...) */
  nodeCode?: string;
  /** the server's or library's text, no stack, no SQL */
  message: string;
}

export type ClientFault =
  | 'auth-plugin-unsupported'
  | 'auth-plugin-not-allowed'
  | 'rsa-key-needed'
  | 'cleartext-needs-tls'
  | 'server-has-no-tls'
  | 'tls-identity'
  | 'protocol'
  | 'closed'
  | 'other';

export type Row = Record<string, unknown>;

/** Auth plugins a check account may use. Cleartext ones (dialog/PAM, mysql_clear_password) are refused. */
export const ALLOWED_AUTH_PLUGINS = [
  'mysql_native_password',
  'caching_sha2_password',
  'sha256_password',
  'client_ed25519',
  'parsec',
];

const quietLogger = {
  // the library prints warnings with console.log unless given a function; they are not needed
  warning: (): void => {},
};

export class MysqlProbe {
  private phaseNow: Phase = 'connect';
  private socket?: Socket;
  private conn?: mariadb.Connection;

  get phase(): Phase {
    return this.phaseNow;
  }

  async login(login: MysqlLogin): Promise<ServerInfo> {
    const socket = new Socket();
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      if (this.phaseNow === 'connect') this.phaseNow = 'greeting';
    });
    socket.once('data', () => {
      if (this.phaseNow === 'greeting') this.phaseNow = 'login';
    });
    // A late error after we are done must not become an uncaught exception.
    socket.on('error', noop);
    socket.connect({ host: login.host, port: login.port });
    try {
      this.conn = await mariadb.createConnection({
        host: login.host,
        port: login.port,
        user: login.user,
        password: login.password,
        stream: () => socket,
        ssl: login.tls ? tlsOptions(login.tls, login.host) : false,
        cachingRsaPublicKey: login.serverPublicKey,
        allowPublicKeyRetrieval: false,
        restrictedAuth: ALLOWED_AUTH_PLUGINS,
        // the checker's deadline governs; the library's own timers stay off
        connectTimeout: 0,
        socketTimeout: 0,
        logger: quietLogger,
        // a collation id that fits the handshake spares the `SET NAMES` round trip after login
        collation: 'UTF8MB4_GENERAL_CI',
        connectAttributes: { program_name: 'lvsd-check' },
        bigIntAsNumber: true,
        // no prepared statements: an LRU cache per connection is pure cost (~8% of a check's CPU)
        prepareCacheLength: 0,
        // `restrictedAuth` and a stream factory that returns the socket are runtime options the
        // library's type declarations do not spell out.
      } as unknown as mariadb.ConnectionConfig);
    } catch (err) {
      throw toDriverError(err);
    }
    // Without an 'error' listener the library throws from socket callbacks on a late failure.
    this.conn.on('error', noop);
    this.phaseNow = 'query';
    const v = this.conn.info?.serverVersion;
    return {
      mariadb: this.conn.info?.isMariaDB() ?? false,
      major: v?.major ?? 0,
      minor: v?.minor ?? 0,
      patch: v?.patch ?? 0,
      version: v?.raw ?? '',
    };
  }

  async query(sql: string): Promise<Row[]> {
    if (!this.conn) throw { message: 'not logged in', client: 'other' } satisfies DriverError;
    this.phaseNow = 'query';
    try {
      return (await this.conn.query(sql)) as Row[];
    } catch (err) {
      throw toDriverError(err);
    }
  }

  /** COM_QUIT, then close: the server counts a clean disconnect, not an aborted connection. */
  async quit(): Promise<void> {
    this.phaseNow = 'quit';
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await conn.end().catch(noop);
    this.destroy();
  }

  /** Closes the fd now, whatever the library is doing. Safe to call twice. */
  destroy(): void {
    this.phaseNow = 'closed';
    // After a TLS upgrade the library's TLS socket runs on this one's handle: closing it closes both.
    const socket = this.socket;
    if (socket && !socket.destroyed) socket.destroy();
  }
}

interface TlsConnectOptions {
  rejectUnauthorized: true;
  /** the name or address the certificate is checked against when no servername is given */
  host: string;
  ca?: string;
  servername?: string;
}

function tlsOptions(tls: MysqlTls, host: string): TlsConnectOptions {
  // With a ready socket, Node's TLS would otherwise check the certificate against "localhost".
  const options: TlsConnectOptions = { rejectUnauthorized: true, host };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

// The library's client-side error numbers (mariadb/lib/misc/errors.js).
const CLIENT_FAULTS: Record<number, ClientFault> = {
  45009: 'closed',
  45011: 'protocol',
  45024: 'protocol',
  45046: 'protocol',
  45065: 'protocol',
  45023: 'server-has-no-tls',
  45025: 'auth-plugin-unsupported',
  45047: 'auth-plugin-not-allowed',
  45044: 'rsa-key-needed',
  45064: 'cleartext-needs-tls',
  45056: 'tls-identity',
  45057: 'tls-identity',
  45059: 'tls-identity',
  45062: 'tls-identity',
  45063: 'tls-identity',
};

/** Library or socket error -> DriverError. Keeps only codes and the first line of the text. */
export function toDriverError(err: unknown): DriverError {
  if (isDriverError(err)) return err;
  const e = (err ?? {}) as { errno?: unknown; code?: unknown; sqlMessage?: unknown; message?: unknown };
  const firstLine = String(typeof e.sqlMessage === 'string' ? e.sqlMessage : (e.message ?? err)).split('\n')[0];
  const message = firstLine.length > 300 ? `${firstLine.slice(0, 300)}...` : firstLine;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  if (errno !== undefined && errno >= 45000 && errno < 46000) {
    return { client: CLIENT_FAULTS[errno] ?? 'other', message };
  }
  if (errno !== undefined && errno > 0 && errno < 45000 && typeof e.sqlMessage === 'string') {
    return { serverErrno: errno, message };
  }
  if (typeof e.code === 'string') return { nodeCode: e.code, message };
  return { client: 'other', message };
}

function isDriverError(err: unknown): err is DriverError {
  return (
    typeof err === 'object' &&
    err !== null &&
    !(err instanceof Error) &&
    typeof (err as DriverError).message === 'string'
  );
}

function noop(): void {}
