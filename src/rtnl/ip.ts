// IP address text <-> the bytes rtnetlink carries (network order, 4 or 16 bytes).
import { isIPv4, isIPv6 } from 'node:net';

export function ipToBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  let groups = text;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (v4Tail) {
    const b = ipToBytes(v4Tail[1]);
    groups = `${groups.slice(0, v4Tail.index)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = groups.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  const out = Buffer.alloc(16);
  [...left, ...fill, ...right].forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function bytesToIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) throw new Error(`an IP address is 4 or 16 bytes, not ${b.length}`);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1); // canonical RFC 5952 form
}
