// Scripted misbehaving MySQL servers on 127.0.0.1, for the failures a real server will not
// produce on demand: no greeting, greeting then silence, garbage, ERR instead of greeting,
// reset, auth switch to a plugin we refuse, caching_sha2 full auth, a login that never gets
// its query answered.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';

export type FakeBehaviour =
  | 'silent' // accepts, never greets
  | 'greet-then-stall' // greeting, then ignores the login
  | 'garbage' // random bytes instead of a greeting
  | 'err-1040' // ERR 1040 Too many connections instead of a greeting
  | 'err-1129' // ERR 1129 host blocked instead of a greeting
  | 'reset' // RST right after accept
  | 'close-after-greeting' // greeting, then FIN on the login
  | 'ok-then-stall' // accepts any login, never answers the query
  | 'auth-switch-dialog' // asks to switch to the PAM 'dialog' plugin (sends the password in clear)
  | 'auth-switch-unknown' // asks to switch to a plugin nobody knows
  | 'err-1251' // answers the login with ERR 1251
  | 'sha2-full-auth' // caching_sha2_password with a cold cache: asks for full authentication
  | 'tls-stall' // offers TLS, then never answers the TLS handshake
  | 'oversized-length' // a packet header announcing 16 MiB, then a few bytes
  | 'truncated-greeting' // the first 20 bytes of a greeting, then FIN
  | 'wrong-sequence' // a greeting with sequence id 7
  | 'empty-plugin' // a greeting naming an empty auth plugin, then OK to any login, then silence
  | 'bad-ok-packet'; // a login answered by a packet of an unknown type (0x42)

export interface FakeStats {
  /** connections accepted so far */
  accepted: number;
  /** connections currently open on the server side */
  open: number;
}

export interface FakeMysql {
  readonly port: number;
  stats(): Promise<FakeStats>;
  /** everything clients sent (first 1 MiB), in-process servers only */
  received(): Buffer;
  close(): Promise<void>;
}

function packet(seq: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

const CAPS =
  0x1 | // LONG_PASSWORD (CLIENT_MYSQL: behave as MySQL, not MariaDB)
  0x8 | // CONNECT_WITH_DB
  0x200 | // PROTOCOL_41
  0x2000 | // TRANSACTIONS
  0x8000 | // SECURE_CONNECTION
  0x20000 | // MULTI_RESULTS
  0x80000 | // PLUGIN_AUTH
  0x200000; // PLUGIN_AUTH_LENENC_CLIENT_DATA

/** Initial Handshake v10 (docs/reliability.md §3). */
export function greeting(plugin = 'mysql_native_password', extraCaps = 0): Buffer {
  const caps = CAPS | extraCaps;
  const scramble = randomBytes(20).map((b) => (b === 0 ? 1 : b));
  const parts = [
    Buffer.from([0x0a]),
    Buffer.from('8.0.36-lvsd-fake\0', 'latin1'),
    Buffer.from([1, 0, 0, 0]),
    scramble.subarray(0, 8),
    Buffer.from([0]),
    Buffer.from([caps & 0xff, (caps >> 8) & 0xff]),
    Buffer.from([0x21]),
    Buffer.from([0x02, 0x00]),
    Buffer.from([(caps >> 16) & 0xff, (caps >> 24) & 0xff]),
    Buffer.from([21]),
    Buffer.alloc(10),
    scramble.subarray(8, 20),
    Buffer.from([0]),
    Buffer.from(`${plugin}\0`, 'latin1'),
  ];
  return packet(0, Buffer.concat(parts));
}

export function errPacket(seq: number, code: number, sqlState: string, message: string): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  return packet(seq, Buffer.concat([head, Buffer.from(`#${sqlState}${message}`, 'utf8')]));
}

const OK = (seq: number): Buffer => packet(seq, Buffer.from([0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]));

function onLogin(socket: Socket, answer: (socket: Socket) => void): void {
  socket.once('data', () => answer(socket));
}

function behave(behaviour: FakeBehaviour, socket: Socket): void {
  switch (behaviour) {
    case 'silent':
      return;
    case 'greet-then-stall':
      socket.write(greeting());
      return;
    case 'garbage':
      socket.write(randomBytes(96));
      socket.on('data', () => socket.write(randomBytes(32)));
      return;
    case 'err-1040':
      socket.end(errPacket(0, 1040, '08004', 'Too many connections'));
      return;
    case 'err-1129':
      socket.end(errPacket(0, 1129, 'HY000', "Host '127.0.0.1' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'"));
      return;
    case 'reset':
      socket.resetAndDestroy();
      return;
    case 'close-after-greeting':
      socket.write(greeting());
      onLogin(socket, (s) => s.end());
      return;
    case 'ok-then-stall':
      socket.write(greeting());
      onLogin(socket, (s) => s.write(OK(2)));
      return;
    case 'auth-switch-dialog':
      socket.write(greeting());
      onLogin(socket, (s) => s.write(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('dialog\0', 'latin1'), Buffer.from([0x04]), Buffer.from('Password: \0')]))));
      return;
    case 'auth-switch-unknown':
      socket.write(greeting());
      onLogin(socket, (s) => s.write(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('lvsd_no_such_plugin\0', 'latin1'), randomBytes(20)]))));
      return;
    case 'err-1251':
      socket.write(greeting());
      onLogin(socket, (s) => s.end(errPacket(2, 1251, '08004', 'Client does not support authentication protocol requested by server; consider upgrading MariaDB client')));
      return;
    case 'tls-stall':
      socket.write(greeting('mysql_native_password', 0x800 /* CLIENT_SSL */));
      return;
    case 'oversized-length':
      socket.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0x00]), randomBytes(64)]));
      return;
    case 'truncated-greeting':
      socket.end(greeting().subarray(0, 20));
      return;
    case 'wrong-sequence': {
      const g = greeting();
      g[3] = 7;
      socket.write(g);
      return;
    }
    case 'empty-plugin':
      socket.write(greeting(''));
      onLogin(socket, (s) => s.write(OK(2)));
      return;
    case 'bad-ok-packet':
      socket.write(greeting());
      onLogin(socket, (s) => s.write(packet(2, Buffer.from([0x42, 0x00, 0x00]))));
      return;
    case 'sha2-full-auth':
      // As MySQL 8 does: the client starts with mysql_native_password, the server switches it to
      // caching_sha2_password, then answers the scramble with AuthMoreData 0x04 "perform full
      // authentication" (cache miss, e.g. after a server restart).
      socket.write(greeting('caching_sha2_password'));
      onLogin(socket, (s) => {
        s.write(packet(2, Buffer.concat([Buffer.from([0xfe]), Buffer.from('caching_sha2_password\0', 'latin1'), randomBytes(20).map((b) => (b === 0 ? 1 : b)), Buffer.from([0])])));
        s.once('data', () => s.write(packet(4, Buffer.from([0x01, 0x04]))));
      });
      return;
  }
}

export function startFakeMysql(behaviour: FakeBehaviour): Promise<FakeMysql> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const received: Buffer[] = [];
  let receivedBytes = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    // keep reading whatever the client sends, so its FIN is seen and our side closes too
    socket.on('data', (chunk: Buffer) => {
      if (receivedBytes >= 1 << 20) return;
      received.push(chunk);
      receivedBytes += chunk.length;
    });
    behave(behaviour, socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('no address'));
      resolve({
        port: address.port,
        stats: async () => ({ accepted, open: sockets.size }),
        received: () => Buffer.concat(received),
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * The same server in a child process: in load loops the server's work then runs on another core
 * and the test process's file descriptors are the checker's alone.
 */
export function startFakeMysqlProcess(behaviour: FakeBehaviour): Promise<FakeMysql> {
  const child = fork(__filename, [behaviour], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const replies: Array<(stats: FakeStats) => void> = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fake MySQL process exited (${code})`)));
    child.on('message', (msg: { port?: number; stats?: FakeStats }) => {
      if (msg.stats) return replies.shift()?.(msg.stats);
      if (msg.port === undefined) return;
      resolve({
        port: msg.port,
        received: () => {
          throw new Error('received() is recorded by in-process fake servers only');
        },
        stats: () =>
          new Promise<FakeStats>((done) => {
            replies.push(done);
            child.send('stats');
          }),
        close: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

if (require.main === module) {
  void startFakeMysql(process.argv[2] as FakeBehaviour).then((fake) => {
    process.on('message', () => void fake.stats().then((stats) => process.send?.({ stats })));
    process.send?.({ port: fake.port });
  });
}
