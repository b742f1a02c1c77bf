// HTTP and HTTPS check: one request on a fresh connection, expected status codes, optional body
// pattern read up to a cap. TLS certificates are verified unless explicitly, loudly, disabled.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { InputError } from '../errors';
import { abortedAfter, elapsedMs } from './deadline';
import { formatTarget, paramsHash, quote, socketErrorInWords } from './describe';
import type { Checker, CheckResult, CheckTarget } from './types';

/** Inclusive range of status codes; a single code is [code, code]. */
export type StatusRange = readonly [number, number];

export interface HttpCheckOptions extends CheckTarget {
  /** HTTPS when true */
  tls?: boolean;
  /** default GET */
  method?: string;
  /** default "/" */
  path?: string;
  /** Host header; default the target */
  hostHeader?: string;
  /** default 200-299 */
  expectStatus?: readonly StatusRange[];
  /** the body (first maxResponseBytes of it) must match */
  bodyRegex?: RegExp;
  /** body bytes read at most (default 65536) */
  maxResponseBytes?: number;
  /** PEM CA certificates to verify against instead of the system store */
  ca?: string | Buffer;
  /** TLS server name; default the Host header's name, else the target when it is a name */
  sni?: string;
  /** Accept any certificate. Dangerous: anyone on the path can answer for the server. */
  insecureSkipTlsVerify?: boolean;
}

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class HttpChecker implements Checker {
  readonly kind = 'http' as const;
  readonly key: string;
  private readonly expectStatus: readonly StatusRange[];
  private readonly maxResponseBytes: number;
  private readonly requestOptions: https.RequestOptions;

  constructor(private readonly options: HttpCheckOptions) {
    this.expectStatus = options.expectStatus ?? [[200, 299]];
    this.maxResponseBytes = options.maxResponseBytes ?? 65536;
    const hostHeader = options.hostHeader ?? formatTarget(options);
    const sni = options.sni ?? serverName(hostHeader) ?? serverName(options.host);
    this.requestOptions = {
      host: options.host,
      port: options.port,
      method: options.method ?? 'GET',
      path: options.path ?? '/',
      headers: { host: hostHeader, 'user-agent': 'lvsd-check', connection: 'close' },
      agent: false, // a fresh connection per probe, closed after it
      ...(options.tls
        ? {
            ca: options.ca,
            servername: sni,
            rejectUnauthorized: options.insecureSkipTlsVerify !== true,
          }
        : {}),
    };
    this.key = ['http', formatTarget(options), paramsHash([
      options.tls === true,
      this.requestOptions.method,
      this.requestOptions.path,
      hostHeader,
      formatStatusRanges(this.expectStatus),
      options.bodyRegex?.toString(),
      this.maxResponseBytes,
      options.ca ? paramsHash(String(options.ca)) : null,
      sni,
      options.insecureSkipTlsVerify === true,
    ])].join(':');
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    const { bodyRegex, tls } = this.options;
    const startedAt = performance.now();
    return new Promise<CheckResult>((resolve) => {
      let phase: 'connect' | 'tls' | 'headers' | 'body' = 'connect';
      let body = '';
      let bodyBytes = 0;
      let settled = false;
      const done = (ok: boolean, reason: string, configError = false): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        resolve(configError ? { ok: false, reason, latencyMs: elapsedMs(startedAt), configError } : { ok, reason, latencyMs: elapsedMs(startedAt) });
      };
      const onAbort = (): void => {
        const after = abortedAfter(signal, startedAt);
        if (phase === 'connect') done(false, `connect timeout ${after}`);
        else if (phase === 'tls') done(false, `TLS handshake timeout ${after}`);
        else if (phase === 'headers') done(false, `timeout ${after} waiting for the response headers`);
        else done(false, `timeout ${after} reading the body (${bodyBytes} bytes) for ${String(bodyRegex)}`);
      };

      const req = (tls ? https : http).request(this.requestOptions);
      req.on('socket', (socket) => {
        socket.once('connect', () => {
          phase = tls ? 'tls' : 'headers';
        });
        if (tls) socket.once('secureConnect', () => (phase = 'headers'));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code && TLS_VERIFY_CODES.has(err.code)) {
          return done(false, `TLS certificate not accepted: ${err.message} (${err.code})`, true);
        }
        if (phase === 'tls' && err.code && (err.code === 'EPROTO' || /^ERR_(SSL|TLS)_/.test(err.code))) {
          return done(false, `TLS handshake failed: ${openSslReason(err.message)} (${err.code})`, true);
        }
        if (phase === 'headers' && err.code === 'ECONNRESET') return done(false, 'connection reset before the response');
        if (err.code === 'HPE_INVALID_CONSTANT' || err.code?.startsWith('HPE_')) {
          return done(false, `not an HTTP response (${err.code})`);
        }
        done(false, socketErrorInWords(err));
      });
      req.on('response', (res: http.IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const line = `HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}`;
        if (!statusAccepted(status, this.expectStatus)) {
          return done(false, `${line}, expected ${formatStatusRanges(this.expectStatus)}`);
        }
        if (!bodyRegex) return done(true, `${line} in ${elapsedMs(startedAt)} ms`);
        phase = 'body';
        res.on('data', (chunk: Buffer) => {
          const room = this.maxResponseBytes - bodyBytes;
          const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
          bodyBytes += part.length;
          body += part.toString('latin1');
          if (bodyRegex.test(body)) return done(true, `${line}, body matches ${bodyRegex} in ${elapsedMs(startedAt)} ms`);
          if (bodyBytes >= this.maxResponseBytes) {
            done(false, `${line}, body does not match ${bodyRegex} in the first ${this.maxResponseBytes} bytes: ${quote(body)}`);
          }
        });
        res.on('end', () => done(false, `${line}, body does not match ${bodyRegex}: ${quote(body)}`));
        res.on('error', () => done(false, `${line}, connection lost while reading the body (${bodyBytes} bytes)`));
      });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.end();
    });
  }
}

/** "wrong version number" out of OpenSSL's "...:SSL routines:ssl3_get_record:wrong version number:file:line:" */
function openSslReason(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.trim();
}

function serverName(hostOrHeader: string): string | undefined {
  let name = hostOrHeader;
  if (name.startsWith('[')) return undefined; // [v6]:port
  const colon = name.lastIndexOf(':');
  if (colon > 0 && name.indexOf(':') === colon) name = name.slice(0, colon);
  return isIP(name) ? undefined : name;
}

export function statusAccepted(status: number, ranges: readonly StatusRange[]): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/** Parses "200-299,301" into ranges; throws InputError describing the bad part. */
export function parseStatusRanges(text: string): StatusRange[] {
  const ranges: StatusRange[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    if (!m) throw new InputError(`"${part}" is not a status code or range like 200-299`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 100 || hi > 599) throw new InputError(`"${part.trim()}": status codes run from 100 to 599`);
    if (lo > hi) throw new InputError(`"${part.trim()}": range start is above its end`);
    ranges.push([lo, hi]);
  }
  return ranges;
}

export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(',');
}
