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

// Connections that hold the ports closedPort() hands out, for the life of the test process.
const held: net.Socket[] = [];

/**
 * A port on 127.0.0.1 that refuses connections and that nothing else can take while this process
 * runs: the local port of a connection this process keeps open. A listener can bind no port an
 * open connection holds, and with no listener the kernel answers connects with a reset (refused).
 * A port bound, released and used later could be taken by another test meanwhile.
 */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const accepted = once(server, 'connection');
  await listenLoopback(server);
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [net.Socket];
  // the listening socket closes now; the server's 'close' waits for the held connection, so no wait
  server.close();
  server.unref();
  for (const s of [client, peer]) {
    s.on('error', () => {});
    s.unref();
    held.push(s);
  }
  return client.localPort!;
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
