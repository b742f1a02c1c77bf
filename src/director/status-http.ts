// The read-only status endpoint: `/` the HTML page, `/status.json` the DirectorStatus, `/metrics`
// Prometheus text. Loopback by default; anywhere else it refuses to start without Basic auth and
// TLS (Basic auth over plain HTTP would send the password in clear).
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Logger } from 'pino';
import { InputError, LvsdError } from '../errors';
import type { DirectorControl } from './api';
import { createMetrics } from './metrics';
import { statusPageChunks } from './page/html';
import { statusJsonChunks, writePieces } from './page/json';

export const DEFAULT_STATUS_LISTEN = '127.0.0.1:9180';

export interface StatusServerOptions {
  /** "HOST:PORT" or "[V6]:PORT"; a literal address (or localhost) */
  listen: string;
  auth?: { user: string; password: string };
  /** HTTPS with this certificate chain and key (PEM) */
  tls?: { cert: Buffer; key: Buffer };
  log: Logger;
  /** seconds between the page's refreshes (5) */
  refreshSeconds?: number;
}

export interface StatusServer {
  /** where it listens, "127.0.0.1:9180" (with the port the kernel chose when 0 was asked) */
  address: string;
  /** "https://127.0.0.1:9180/" */
  url: string;
  /** HTTPS only: new connections get this certificate and key (a renewed certificate, without a restart) */
  setTls(tls: { cert: Buffer; key: Buffer }): void;
  close(): Promise<void>;
}

/** "127.0.0.1:9180", "[::1]:9180", "localhost:9180" -> host and port; errors name the setting. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(listen);
  const bad = (why: string) => new InputError(`status listen "${listen}": ${why} (give HOST:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9180)`);
  if (!m) throw bad('not HOST:PORT');
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw bad(`port ${port} is not from 0 to 65535`);
  if (m[1] !== undefined && net.isIP(host) !== 6) throw bad('not an IPv6 address inside the brackets');
  if (m[1] === undefined && net.isIP(host) !== 4 && host !== 'localhost') throw bad('the host must be an IP address or localhost');
  return { host, port };
}

/** Whether only this machine can reach the address: 127.0.0.0/8, ::1, ::ffff:127.x. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIP(host) === 4) return host.startsWith('127.');
  if (net.isIP(host) === 6) {
    const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
    if (canonical === '::1') return true;
    // ::ffff:127.0.0.1 is written ::ffff:7f00:1 once canonical
    return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
  }
  return false;
}

/** Checks the settings without starting anything: the same refusal start gives. */
export function checkStatusSettings(opts: { listen: string; auth?: { user: string; password: string }; tls?: object }): { host: string; port: number } {
  const where = parseListen(opts.listen);
  if (opts.auth) {
    if (opts.auth.user === '' || opts.auth.user.includes(':') || /[\x00-\x1f\x7f]/.test(opts.auth.user)) {
      throw new InputError('status auth user: must be non-empty, without ":" or control characters');
    }
    if (opts.auth.password === '') throw new InputError('status auth password: must not be empty');
  }
  if (!isLoopback(where.host) && (!opts.auth || !opts.tls)) {
    throw new InputError(
      `status listen "${opts.listen}" is not a loopback address: set a user and password (Basic auth) and a TLS certificate and key for it, or listen on 127.0.0.1`,
    );
  }
  return where;
}

export async function startStatusServer(control: DirectorControl, opts: StatusServerOptions): Promise<StatusServer> {
  const { host, port } = checkStatusSettings(opts);
  const log = opts.log;
  const metrics = createMetrics(control);
  // both sides hashed to equal length first, so the comparison time tells nothing about the length
  const expected = opts.auth ? digest(`${opts.auth.user}:${opts.auth.password}`) : undefined;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    serve(req, res).catch((err) => {
      log.error({ err: (err as Error).message, url: req.url }, 'status request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  };
  let server: http.Server;
  try {
    server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : http.createServer(handle);
  } catch (err) {
    throw tlsError(err);
  }
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (expected && !authorised(req.headers.authorization, expected)) {
      log.warn({ remote: req.socket.remoteAddress, url: req.url }, 'status request without valid credentials');
      res.setHeader('WWW-Authenticate', 'Basic realm="lvsd director", charset="UTF-8"');
      return send(res, 401, 'text/plain; charset=utf-8', 'authentication required\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET or HEAD\n');
    }
    const route = (req.url ?? '/').split('?')[0];
    switch (route) {
      case '/':
      case '/index.html':
        return stream(res, 'text/html; charset=utf-8', statusPageChunks(control.status(), Date.now(), opts.refreshSeconds));
      case '/status.json':
        return stream(res, 'application/json', statusJsonChunks(control.status()));
      case '/metrics':
        return stream(res, metrics.contentType, metrics.chunks());
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found: / (page), /status.json, /metrics\n');
    }
  }

  server.listen(port, host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LvsdError('LVSD_ERR_STATUS', `status endpoint cannot listen on ${opts.listen}: ${e.code ?? ''} ${e.message}`.replace(/  +/g, ' '), { cause: err });
  }
  const bound = server.address() as net.AddressInfo;
  const address = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  log.info({ address, auth: expected !== undefined, tls: opts.tls !== undefined }, 'status endpoint listening');
  return {
    address,
    url: `${opts.tls ? 'https' : 'http'}://${address}/`,
    setTls: (tls) => {
      if (!(server instanceof https.Server)) throw new LvsdError('LVSD_ERR_STATUS', 'status endpoint: it was started without TLS; restart the director to add it');
      try {
        server.setSecureContext({ cert: tls.cert, key: tls.key });
      } catch (err) {
        throw tlsError(err);
      }
      log.info('status endpoint: TLS certificate and key read again');
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** OpenSSL's words for a certificate or key it refused; never the key itself. */
function tlsError(err: unknown): LvsdError {
  return new LvsdError('LVSD_ERR_STATUS', `status endpoint: the TLS certificate or key cannot be used: ${(err as Error).message}`, { cause: err });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function authorised(header: string | undefined, expected: Buffer): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  const given = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  return timingSafeEqual(digest(given), expected);
}

/** A large answer in pieces, the event loop handed back between them (the checks run on it). */
async function stream(res: http.ServerResponse, type: string, pieces: Iterable<string> | AsyncIterable<string>): Promise<void> {
  res.writeHead(200, { 'Content-Type': type, ...HEADERS });
  if (res.req.method === 'HEAD') return void res.end();
  await writePieces(res, pieces);
}

const HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // the page has no script: forbid any, so even an escaping slip could not run one
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
};

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...HEADERS });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
