// TCP check: connect, optionally send a string and expect a reply, then close.
import { Socket, isIP } from 'node:net';
import { abortedAfter, elapsedMs } from './deadline';
import { connectAndClose, fastConnectAvailable } from './tcp-connect';
import { describeExpect, formatTarget, paramsHash, quote, socketErrorInWords } from './describe';
import type { Checker, CheckResult, CheckTarget } from './types';

export interface TcpCheckOptions extends CheckTarget {
  /** written once connected */
  send?: string;
  /** a substring or pattern the reply must contain */
  expect?: string | RegExp;
  /** stop reading after this many bytes (default 4096) */
  maxReadBytes?: number;
}

export class TcpChecker implements Checker {
  readonly kind = 'tcp' as const;
  readonly key: string;
  private readonly maxReadBytes: number;
  /** 4 or 6 when a bare connect to an IP literal can take the fast path */
  private readonly fastFamily: 0 | 4 | 6;

  constructor(private readonly options: TcpCheckOptions) {
    this.maxReadBytes = options.maxReadBytes ?? 4096;
    const family = isIP(options.host);
    const bare = options.send === undefined && options.expect === undefined;
    this.fastFamily = bare && fastConnectAvailable && (family === 4 || family === 6) ? family : 0;
    this.key = ['tcp', formatTarget(options), paramsHash([options.send, describeExpect(options.expect), this.maxReadBytes])].join(':');
  }

  run(signal: AbortSignal): Promise<CheckResult> {
    const { host, port, send, expect } = this.options;
    if (this.fastFamily) return connectAndClose(host, this.fastFamily, port, signal);
    const startedAt = performance.now();
    return new Promise<CheckResult>((resolve) => {
      const socket = new Socket();
      let connected = false;
      let received = '';
      let receivedBytes = 0;
      const done = (ok: boolean, reason: string): void => {
        socket.removeAllListeners();
        signal.removeEventListener('abort', onAbort);
        // Swallow late errors (e.g. a reset after we decided) now that listeners are gone.
        socket.on('error', noop);
        // destroy() closes the fd: a FIN, or a reset if the peer sent bytes we did not read.
        socket.destroy();
        resolve({ ok, reason, latencyMs: elapsedMs(startedAt) });
      };
      const onAbort = (): void => {
        const after = abortedAfter(signal, startedAt);
        if (!connected) done(false, `connect timeout ${after}`);
        else done(false, `timeout ${after} waiting for ${describeExpect(expect)} (got ${quote(received)})`);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });

      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (connected && expect !== undefined && err.code === 'ECONNRESET') {
          return done(false, `connection reset while waiting for ${describeExpect(expect)} (got ${quote(received)})`);
        }
        done(false, socketErrorInWords(err));
      });
      socket.connect({ host, port }, () => {
        connected = true;
        if (send !== undefined) socket.write(send);
        if (expect === undefined) return done(true, `connected in ${elapsedMs(startedAt)} ms`);
        socket.on('data', (chunk: Buffer) => {
          const room = this.maxReadBytes - receivedBytes;
          const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
          receivedBytes += part.length;
          received += part.toString('latin1');
          if (matches(expect, received)) return done(true, `got ${describeExpect(expect)} in ${elapsedMs(startedAt)} ms`);
          if (receivedBytes >= this.maxReadBytes) {
            done(false, `expected ${describeExpect(expect)} within ${this.maxReadBytes} bytes, got ${quote(received)}`);
          }
        });
        socket.on('end', () => done(false, `expected ${describeExpect(expect)}, got ${quote(received)} then the connection closed`));
      });
    });
  }
}

function noop(): void {}

function matches(expect: string | RegExp, text: string): boolean {
  return typeof expect === 'string' ? text.includes(expect) : expect.test(text);
}
