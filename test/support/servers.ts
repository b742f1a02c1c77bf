// Small helpers for host tests that start their own servers on loopback.
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import type { Server } from 'node:net';
import * as net from 'node:net';

/** Listens on 127.0.0.1 on a free port and returns the port. */
export async function listenLoopback(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/**
 * A port on 127.0.0.1 that refuses connections: one below the kernel's ephemeral range with no
 * listener. Below that range no connect picks it as a source port (a connect from the port to
 * itself would open, simultaneously, instead of being refused: seen once in 10,000 probes when
 * this was an ephemeral port), and no listen(0) of another test gets it.
 */
export async function closedPort(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (let tries = 0; tries < 50; tries++) {
    const port = 1024 + Math.floor(Math.random() * (low - 1024));
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no closed port found below the ephemeral range in 50 tries');
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
