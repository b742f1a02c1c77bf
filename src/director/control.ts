// The director's control socket: a local HTTP API on a Unix socket for `lvsd director status`,
// `drain`, `enable`, `weight` and `reload`. Only the socket file's mode guards it (root only, 0600
// by default), so the file is never reachable under a looser mode, not even for an instant.
import { once } from 'node:events';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmdirSync, unlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { InputError, LvsdError } from '../errors';
import type { DirectorControl, ServerSelector } from './api';
import { statusJsonChunks, writePieces } from './page/json';

export const DEFAULT_CONTROL_SOCKET = '/run/lvsd/director.sock';

/** Largest request body the socket reads; a selector and a weight fit many times over. */
const MAX_BODY = 64 * 1024;
/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

// ---- input validation, shared with the client so the CLI rejects bad input before connecting

/** A server selector as typed: "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT"; returns it normalised. */
export function parseServerSelector(text: unknown, service?: unknown, where = 'SERVER'): ServerSelector {
  if (typeof text !== 'string' || text === '') throw new InputError(`${where}: give a server as ADDR, ADDR:PORT or [IPV6]:PORT`);
  const server = normaliseServer(text, where);
  if (service === undefined || service === null) return { server };
  if (typeof service !== 'string' || service === '' || service.length > 255 || /[\x00-\x1f\x7f]/.test(service)) {
    throw new InputError(`--service: must be a service's name or address (1 to 255 printable characters), got ${JSON.stringify(service)}`);
  }
  return { server, service };
}

function normaliseServer(text: string, where: string): string {
  const bad = (why: string) => new InputError(`${where} "${text.slice(0, 80)}": ${why} (give ADDR, ADDR:PORT or [IPV6]:PORT)`);
  let address: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    [, address, port] = bracketed;
    if (net.isIP(address) !== 6) throw bad('not an IPv6 address inside the brackets');
  } else if (text.includes('[') || text.includes(']')) {
    throw bad('brackets do not pair up');
  } else if (net.isIP(text) === 6) {
    address = text; // a bare IPv6 address: every port
  } else {
    const colon = text.lastIndexOf(':');
    address = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? undefined : text.slice(colon + 1);
    if (net.isIP(address) !== 4) throw bad(address.includes(':') ? 'an IPv6 address with a port needs brackets' : 'not an IP address');
  }
  if (port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) throw bad(`port "${port}" is not a number from 0 to 65535`);
  // IPv6 in the one spelling the status shows (2001:db8::21, not 2001:0db8:0::21)
  const canonical = net.isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname : address;
  if (port === undefined) return net.isIP(address) === 6 ? canonical.slice(1, -1) : canonical;
  return `${net.isIP(address) === 6 ? canonical : address}:${Number(port)}`;
}

/** A weight as IPVS takes it: an integer from 0 to 65535. */
export function parseWeight(value: unknown, where = 'WEIGHT'): number {
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InputError(`${where}: must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return n;
}

// ---- the server

export interface ControlServer {
  close(): Promise<void>;
}

/**
 * Serves `control` on a Unix socket at `opts.path`. A stale socket (nobody answers) is replaced;
 * a live one means another director runs, and start fails.
 */
export async function startControlServer(control: DirectorControl, opts: { path: string; mode?: number }): Promise<ControlServer> {
  const path = opts.path;
  const mode = opts.mode ?? 0o600;
  if (!path.startsWith('/')) throw new InputError(`control socket "${path}": must be an absolute path`);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new InputError(`control socket "${path}": longer than ${MAX_SOCKET_PATH} bytes, the most a Unix socket path can hold`);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) throw new InputError(`control socket mode ${String(mode)}: must be a permission mode from 0 to 0777`);

  const server = http.createServer((req, res) => {
    handle(control, req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else reply(res, 500, { error: `internal error: ${(err as Error).message}` });
    });
  });
  server.requestTimeout = 120_000; // a reload may apply many operations
  server.headersTimeout = 10_000;

  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new LvsdError('LVSD_ERR_CONTROL', `cannot create the directory ${dir} for the control socket: ${errnoText(err)}`, { cause: err });
  }
  await clearStale(path);

  // Bound in a private directory (0700), given its mode there, then linked into place: the name
  // at `path` appears only with its final mode, and link() fails if another process took it.
  const privateDir = mkdtempSync(join(dir, `.${basename(path)}.`));
  const tmp = join(privateDir, 's');
  try {
    server.listen(tmp);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
    chmodSync(tmp, mode);
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new LvsdError('LVSD_ERR_CONTROL', `another director is running (control socket ${path} was created while this one started)`);
      throw err;
    }
  } catch (err) {
    server.close();
    throw err instanceof LvsdError ? err : new LvsdError('LVSD_ERR_CONTROL', `cannot create control socket ${path}: ${errnoText(err)}`, { cause: err });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    rmdirSync(privateDir);
  }
  const ino = lstatSync(path).ino;

  return {
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // remove the name only while it is still ours
      try {
        if (lstatSync(path).ino === ino) unlinkSync(path);
      } catch {
        // already removed
      }
    },
  };
}

/** Removes a socket file nobody answers on; refuses when someone does or the file is no socket. */
async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LvsdError('LVSD_ERR_CONTROL', `cannot inspect control socket ${path}: ${errnoText(err)}`);
  }
  if (!st.isSocket()) throw new LvsdError('LVSD_ERR_CONTROL', `control socket ${path}: a file that is not a socket is in the way; remove it`);
  if (await answers(path)) throw new LvsdError('LVSD_ERR_CONTROL', `another director is running (control socket ${path} answers)`);
  unlinkSync(path);
}

/** Whether something accepts connections on the socket (bounded: 2 s). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    const done = (live: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(live);
    };
    // a listener too busy to accept within 2 s is still alive: treat it as live
    const timer = setTimeout(() => done(true), 2000);
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}

function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : String(e?.message ?? err);
}

// ---- requests

async function handle(control: DirectorControl, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const route = (req.url ?? '/').split('?')[0];
  if (route === '/status') {
    if (req.method !== 'GET') return reply(res, 405, { error: 'GET /status' }, { Allow: 'GET' });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return writePieces(res, statusJsonChunks(control.status()));
  }
  const actions = ['/drain', '/enable', '/weight', '/reload'];
  if (!actions.includes(route)) return reply(res, 404, { error: `no such request: ${req.method} ${route}` });
  if (req.method !== 'POST') return reply(res, 405, { error: `POST ${route}` }, { Allow: 'POST' });

  let body: Record<string, unknown>;
  try {
    body = await readJson(req);
  } catch (err) {
    return reply(res, 400, { error: (err as Error).message });
  }
  const allowed = { '/reload': [], '/drain': ['server', 'service'], '/enable': ['server', 'service'], '/weight': ['server', 'service', 'weight'] }[route] as string[];
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) return reply(res, 400, { error: `${route}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}` });
  try {
    switch (route) {
      case '/reload':
        return reply(res, 200, await control.reload());
      case '/drain':
        return reply(res, 200, await control.drain(selectorOf(body)));
      case '/enable':
        return reply(res, 200, await control.enable(selectorOf(body)));
      case '/weight': {
        const sel = selectorOf(body);
        return reply(res, 200, await control.setWeight(sel, parseWeight(body.weight, 'weight')));
      }
    }
  } catch (err) {
    if (err instanceof InputError) return reply(res, 400, { error: err.message });
    throw err;
  }
}

function selectorOf(body: Record<string, unknown>): ServerSelector {
  return parseServerSelector(body.server, body.service, 'server');
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new InputError(`request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`request body is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('request body must be a JSON object');
  return value as Record<string, unknown>;
}

function reply(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
