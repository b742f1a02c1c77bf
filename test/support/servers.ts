// Small helpers for host tests that start their own servers on loopback.
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:net';
import * as net from 'node:net';

/** Listens on 127.0.0.1 on a free port and returns the port. */
export async function listenLoopback(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listenLoopback(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP server whose connections get `onConnection`; sockets are tracked and destroyed on close. */
export async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the checker resets connections on purpose
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  const port = await listenLoopback(server);
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Whether a process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8') as string;
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
