// A VrrpSocket in another process (so in another network namespace: `ip netns exec NS node
// vrrp-peer.js FAMILY IFINDEX`), driven over stdin/stdout in JSON lines:
//   out {"ready":{"source":...}} once open, {"advert":{data(hex),src,dst,ttl,family,ifindex}} per datagram,
//       {"error":message} on an 'error' event or a failed command
//   in  {"send":hex,"dst":address}
// stdin's end closes the socket and nothing else: the process then exits only if close() really
// stopped the polling.
import { createInterface } from 'node:readline';
import { VrrpSocket } from '../../src/vrrp/io';

const [family, ifindex] = process.argv.slice(2).map(Number);
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const socket = VrrpSocket.open({ family: family as 4 | 6, ifindex });
socket.on('advert', (r) => out({ advert: { ...r, data: r.data.toString('hex') } }));
socket.on('error', (err: Error) => out({ error: err.message }));
out({ ready: { source: socket.source } });
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  try {
    const cmd = JSON.parse(line) as { send: string; dst: string };
    socket.send(Buffer.from(cmd.send, 'hex'), cmd.dst);
  } catch (err) {
    out({ error: (err as Error).message });
  }
});
lines.on('close', () => socket.close());
