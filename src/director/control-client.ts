// The CLI's side of the control socket: one HTTP request per command over the Unix socket the
// running director listens on. It never opens netlink: the director owns the kernel table.
import * as http from 'node:http';
import { InputError, LvsdError, PermissionError } from '../errors';
import type { ControlResult, DirectorStatus, ReloadResult, ServerSelector } from './api';
import { DEFAULT_CONTROL_SOCKET, parseServerSelector, parseWeight } from './control';

export interface ClientOptions {
  /** the control socket; /run/lvsd/director.sock by default */
  socket?: string;
  /** how long to wait for the answer */
  timeoutMs?: number;
}

export async function status(opts: ClientOptions = {}): Promise<DirectorStatus> {
  return request<DirectorStatus>(opts, 'GET', '/status');
}

export async function drain(sel: ServerSelector, opts: ClientOptions = {}): Promise<ControlResult> {
  return request<ControlResult>(opts, 'POST', '/drain', checked(sel));
}

export async function enable(sel: ServerSelector, opts: ClientOptions = {}): Promise<ControlResult> {
  return request<ControlResult>(opts, 'POST', '/enable', checked(sel));
}

export async function weight(sel: ServerSelector, weight: number, opts: ClientOptions = {}): Promise<ControlResult> {
  return request<ControlResult>(opts, 'POST', '/weight', { ...checked(sel), weight: parseWeight(weight) });
}

/** A reload validates and applies the whole config: give it longer than the other requests. */
export async function reload(opts: ClientOptions = {}): Promise<ReloadResult> {
  return request<ReloadResult>({ timeoutMs: 120_000, ...opts }, 'POST', '/reload', {});
}

function checked(sel: ServerSelector): ServerSelector {
  return parseServerSelector(sel.server, sel.service);
}

function request<T>(opts: ClientOptions, method: string, route: string, body?: unknown): Promise<T> {
  const socketPath = opts.socket ?? DEFAULT_CONTROL_SOCKET;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path: route,
        headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            return reject(new LvsdError('LVSD_ERR_CONTROL', `the director at ${socketPath} answered ${res.statusCode} with something that is not JSON`));
          }
          const error = (value as { error?: unknown }).error;
          if (res.statusCode === 200) return resolve(value as T);
          const why = typeof error === 'string' ? error : `status ${res.statusCode}`;
          // 400: our input was refused; anything else is the director's fault
          reject(res.statusCode === 400 ? new InputError(why) : new LvsdError('LVSD_ERR_CONTROL', `the director refused ${method} ${route}: ${why}`));
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new LvsdError('LVSD_ERR_CONTROL', `the director at ${socketPath} did not answer ${method} ${route} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(err, socketPath));
    });
    req.end(payload);
  });
}

function connectError(err: NodeJS.ErrnoException, socketPath: string): Error {
  if (err instanceof LvsdError) return err;
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new LvsdError('LVSD_ERR_NO_DIRECTOR', `no director is running: cannot connect to ${socketPath} (${err.code})`);
    case 'EACCES':
    case 'EPERM':
      return new PermissionError(`permission denied on the control socket ${socketPath} (${err.code}): run as root`);
    default:
      return new LvsdError('LVSD_ERR_CONTROL', `cannot talk to the director at ${socketPath}: ${err.code ?? ''} ${err.message}`.replace(/  +/g, ' '));
  }
}
