// Results in words, shared by the checker kinds.
import { createHash } from 'node:crypto';
import type { CheckTarget } from './types';

export function describeExpect(expect: string | RegExp | undefined): string {
  if (expect === undefined) return 'nothing';
  return typeof expect === 'string' ? JSON.stringify(expect) : String(expect);
}

/** Shows what the server sent, escaped and cut short. */
export function quote(text: string, max = 64): string {
  if (text.length === 0) return 'nothing';
  const cut = text.length > max ? text.slice(0, max) : text;
  return JSON.stringify(cut) + (text.length > max ? `... (${text.length} bytes)` : '');
}

/** Node socket errors in words; the code stays for searching. */
export function socketErrorInWords(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by peer';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ETIMEDOUT':
      return 'connect timed out in the kernel';
    case 'EADDRNOTAVAIL':
      return 'no local address available (EADDRNOTAVAIL)';
    case 'EPIPE':
      return 'connection closed by peer while sending (EPIPE)';
    case 'ENOTFOUND':
      return 'host name not found';
    case 'EMFILE':
    case 'ENFILE':
      return `out of file descriptors (${err.code})`;
    default:
      return `socket error ${err.code ?? ''}: ${err.message}`.replace('  ', ' ');
  }
}

/** join(): one flat string (checker keys keep it; a template literal keeps a rope of its parts). */
export function formatTarget(t: CheckTarget): string {
  return t.host.includes(':') ? ['[', t.host, ']:', t.port].join('') : [t.host, t.port].join(':');
}

/** A short digest of check parameters: keys stay comparable without spelling parameters out. */
export function paramsHash(params: unknown): string {
  return createHash('sha256').update(JSON.stringify(params)).digest('base64url').slice(0, 16);
}
