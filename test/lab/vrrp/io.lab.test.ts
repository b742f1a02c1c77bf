// VRRP's packet I/O on a real kernel: this file's namespace ("A") and a second one ("B") on a
// veth pair. A VrrpSocket here and one in a child process in B (test/support/vrrp-peer.ts)
// exchange advert-shaped datagrams; keepalived 2.2.7 in B is heard here; gratuitous ARP and
// unsolicited NA sent from here move B's neighbour entries. Addresses: 198.18.5.0/24, 2001:db8:5::/64.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { VrrpIoError } from '../../../src/errors';
import { VRRP_GROUP4, VRRP_GROUP6, VrrpSocket, sendGratuitousArp, sendUnsolicitedNa, type Received } from '../../../src/vrrp/io';

const NS = `vrrp-io-${process.pid}`;
const A_IF = `vrio${process.pid % 100000}`;
const A4 = '198.18.5.1';
const B4 = '198.18.5.2';
const A6 = '2001:db8:5::1';
const B6 = '2001:db8:5::2';
const PEER_JS = join(__dirname, '..', '..', 'support', 'vrrp-peer.js');
const IO_JS = join(__dirname, '..', '..', '..', 'src', 'vrrp', 'io.js');
const dir = mkdtempSync(join(tmpdir(), 'vrrp-io-'));
const children = new Set<ChildProcess>();
let aIndex = 0;
let bIndex = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until cond() gives a value (bounded in time; every `every` ms). */
async function until<T>(what: string, cond: () => T | undefined | false, ms = 20_000, every = 50): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}
const inB = (cmd: string, args: string[]) => sh('ip', ['netns', 'exec', NS, cmd, ...args]);

function ifindex(ns: string[], dev: string): number {
  return (JSON.parse(sh('ip', [...ns, '-j', 'link', 'show', 'dev', dev])) as { ifindex: number }[])[0].ifindex;
}
function mac(ns: string[], dev: string): string {
  return (JSON.parse(sh('ip', [...ns, '-j', 'link', 'show', 'dev', dev])) as { address: string }[])[0].address;
}
/** B's neighbour entry for address: its MAC, or undefined. */
function neighbourInB(address: string): string | undefined {
  const out = JSON.parse(sh('ip', ['-n', NS, '-j', 'neigh', 'show', address, 'dev', 'eth0'])) as { lladdr?: string }[];
  return out[0]?.lladdr;
}
const linkLocal = (ns: string[], dev: string) =>
  (JSON.parse(sh('ip', [...ns, '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link'])) as { addr_info: { local?: string; tentative?: boolean }[] }[])[0]?.addr_info.find((a) => a.local && !a.tentative)?.local;

before(async () => {
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  sh('ip', ['netns', 'add', NS]);
  // no duplicate address detection: the link-local addresses VRRPv3 sends from are usable at once
  const noDad = ['-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'];
  sh('sysctl', noDad);
  inB('sysctl', noDad);
  sh('ip', ['link', 'add', A_IF, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS]);
  sh('ip', ['addr', 'add', `${A4}/24`, 'dev', A_IF]);
  sh('ip', ['addr', 'add', `${A6}/64`, 'dev', A_IF, 'nodad']);
  sh('ip', ['link', 'set', A_IF, 'up']);
  inB('ip', ['addr', 'add', `${B4}/24`, 'dev', 'eth0']);
  inB('ip', ['addr', 'add', `${B6}/64`, 'dev', 'eth0', 'nodad']);
  inB('ip', ['link', 'set', 'lo', 'up']);
  inB('ip', ['link', 'set', 'eth0', 'up']);
  aIndex = ifindex([], A_IF);
  bIndex = ifindex(['-n', NS], 'eth0');
  await until('link-local addresses on both ends', () => linkLocal([], A_IF) && linkLocal(['-n', NS], 'eth0'), 20_000, 200);
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await until('children gone', () => children.size === 0, 10_000).catch(() => undefined);
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', A_IF], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A VrrpSocket in namespace B, in a child process. */
class Peer {
  readonly lines: { ready?: { source: string }; advert?: Received & { data: string }; error?: string }[] = [];
  readonly proc: ChildProcess;
  stderr = '';
  private exit: Promise<number | null>;

  constructor(family: 4 | 6) {
    this.proc = track(spawn('ip', ['netns', 'exec', NS, process.execPath, PEER_JS, String(family), String(bIndex)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    createInterface({ input: this.proc.stdout! }).on('line', (l) => this.lines.push(JSON.parse(l)));
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exit = new Promise((r) => this.proc.once('exit', r));
  }

  async ready(): Promise<string> {
    const line = await until(`the peer in ${NS} to open its socket`, () => {
      if (this.proc.exitCode !== null) throw new Error(`peer exited ${this.proc.exitCode}: ${this.stderr}`);
      return this.lines.find((l) => l.ready);
    }, 30_000);
    return line.ready!.source;
  }

  send(data: Buffer, dst: string): void {
    this.proc.stdin!.write(`${JSON.stringify({ send: data.toString('hex'), dst })}\n`);
  }

  advert(what: string, match: (r: Received & { data: string }) => boolean): Promise<Received & { data: string }> {
    return until(`the peer to receive ${what}`, () => {
      const err = this.lines.find((l) => l.error);
      if (err) throw new Error(`peer: ${err.error}`);
      return this.lines.find((l) => l.advert && match(l.advert))?.advert;
    });
  }

  /** Ends stdin: the peer closes its socket, and exits only if that stopped the polling. */
  async close(): Promise<number | null> {
    this.proc.stdin!.end();
    return Promise.race([this.exit, sleep(20_000).then(() => 'still running 20 s after close()' as const)]).then((r) => {
      if (typeof r === 'string') throw new Error(r);
      return r;
    });
  }
}

/** Advert-shaped bytes: version/type, vrid, priority, count, interval, a checksum no kernel must touch, one address. */
function advertShaped(version: 2 | 3, vrid: number, address: Buffer, tag: number): Buffer {
  return Buffer.concat([Buffer.from([(version << 4) | 1, vrid, tag, 1, 0, 100, 0xbe, 0xef]), address]);
}

function collect(socket: VrrpSocket): Received[] {
  const got: Received[] = [];
  socket.on('advert', (r: Received) => got.push(r));
  socket.on('error', (err: Error) => assert.fail(`socket error: ${err.message}`));
  return got;
}

for (const family of [4, 6] as const) {
  const [group, peerUnicast, ownUnicast] = family === 4 ? [VRRP_GROUP4, B4, A4] : [VRRP_GROUP6, B6, A6];
  const addr = Buffer.from(family === 4 ? [198, 18, 5, 100] : [0x20, 0x01, 0x0d, 0xb8, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x64]);
  test(`IPv${family}: adverts sent multicast and unicast arrive in the other namespace unchanged, with ${family === 4 ? 'TTL' : 'hop limit'} 255 and their source and destination, both ways`, async () => {
    const a = VrrpSocket.open({ family, ifindex: aIndex });
    const got = collect(a);
    const peer = new Peer(family);
    try {
      const bSource = await peer.ready();
      if (family === 4) {
        assert.equal(a.source, A4, "the interface's primary address");
        assert.equal(bSource, B4);
      } else {
        assert.equal(a.source, linkLocal([], A_IF), "the interface's link-local address");
        assert.equal(bSource, linkLocal(['-n', NS], 'eth0'));
      }
      const v = family === 4 ? 2 : 3;
      const sent = [advertShaped(v, 51, addr, 1), advertShaped(v, 51, addr, 2), advertShaped(v, 51, addr, 3), advertShaped(v, 51, addr, 4)];

      a.send(sent[0], group);
      const m = await peer.advert('the multicast one from A', (r) => r.data === sent[0].toString('hex'));
      assert.deepEqual(m, { data: sent[0].toString('hex'), src: a.source, dst: group, ttl: 255, family, ifindex: bIndex });
      a.send(sent[1], peerUnicast);
      const u = await peer.advert('the unicast one from A', (r) => r.data === sent[1].toString('hex'));
      assert.deepEqual(u, { data: sent[1].toString('hex'), src: a.source, dst: peerUnicast, ttl: 255, family, ifindex: bIndex });

      peer.send(sent[2], group);
      const m2 = await until('A to receive the multicast one from B', () => got.find((r) => r.data.equals(sent[2])));
      assert.deepEqual(m2, { data: sent[2], src: bSource, dst: group, ttl: 255, family, ifindex: aIndex });
      peer.send(sent[3], ownUnicast);
      const u2 = await until('A to receive the unicast one from B', () => got.find((r) => r.data.equals(sent[3])));
      assert.deepEqual(u2, { data: sent[3], src: bSource, dst: ownUnicast, ttl: 255, family, ifindex: aIndex });

      assert.deepEqual(got.filter((r) => r.src === a.source), [], 'multicast loop is off: A never hears itself');
      assert.equal(got.length, 2, 'A heard exactly the two datagrams B sent');
      console.log(`# IPv${family}: A ${a.source} <-> B ${bSource}, 4 datagrams, TTL 255 each`);
    } finally {
      a.close();
      assert.equal(await peer.close(), 0, `peer: ${peer.stderr}`);
    }
  });

  test(`IPv${family}: a socket with unicast peers does not join the group: it hears unicast only, even beside a socket that joined it`, async () => {
    const a = VrrpSocket.open({ family, ifindex: aIndex, unicastPeers: [peerUnicast] });
    const got = collect(a);
    const member = VrrpSocket.open({ family, ifindex: aIndex });
    const gotByMember = collect(member);
    const peer = new Peer(family);
    try {
      await peer.ready();
      const multicast = advertShaped(3, 52, addr, 5);
      const unicast = advertShaped(3, 52, addr, 6);
      peer.send(multicast, group);
      peer.send(unicast, ownUnicast);
      await until('the unicast one', () => got.find((r) => r.data.equals(unicast)));
      await until('the multicast one at the member', () => gotByMember.find((r) => r.data.equals(multicast)));
      assert.deepEqual(got.map((r) => r.dst), [ownUnicast], 'the multicast one (sent first) never arrived');
    } finally {
      a.close();
      member.close();
      assert.equal(await peer.close(), 0, `peer: ${peer.stderr}`);
    }
  });
}

test("close() in an 'advert' listener stops delivery at once; 200 open/close cycles leave no descriptor open", async () => {
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 200; i++) VrrpSocket.open({ family: i % 2 ? 6 : 4, ifindex: aIndex }).close();
  assert.equal(fds(), before, 'as many descriptors open as before');

  const a = VrrpSocket.open({ family: 4, ifindex: aIndex });
  const b = VrrpSocket.open({ family: 4, ifindex: aIndex });
  let heardByA = 0;
  a.on('advert', () => {
    heardByA++;
    a.close();
  });
  const heardByB = collect(b);
  const peer = new Peer(4);
  try {
    await peer.ready();
    const addr = Buffer.from([198, 18, 5, 100]);
    for (const tag of [7, 8, 9]) peer.send(advertShaped(3, 53, addr, tag), VRRP_GROUP4);
    await until('B to hear all three', () => heardByB.filter((r) => r.data[1] === 53).length === 3);
    assert.equal(heardByA, 1, 'A heard only the datagram during which it closed');
    a.close(); // again: a no-op
  } finally {
    b.close();
    assert.equal(await peer.close(), 0, `peer: ${peer.stderr}`);
  }
});

const keepalivedCases = [
  { name: 'VRRPv2 IPv4', version: 2, family: 4, vip: '198.18.5.100/32', first: 0x21, group: VRRP_GROUP4 },
  { name: 'VRRPv3 IPv4', version: 3, family: 4, vip: '198.18.5.100/32', first: 0x31, group: VRRP_GROUP4 },
  { name: 'VRRPv3 IPv6', version: 3, family: 6, vip: '2001:db8:5::100/128', first: 0x31, group: VRRP_GROUP6 },
] as const;
type KeepalivedCase = (typeof keepalivedCases)[number];
const VIP_BYTES = { 4: Buffer.from([198, 18, 5, 100]), 6: Buffer.from('20010db8000500000000000000000100', 'hex') };

/** keepalived 2.2.7 (VRRP only) in B with one instance, vrid 61, advert_int 1, on files of its own. */
function startKeepalived(c: KeepalivedCase, state: 'MASTER' | 'BACKUP', priority: number) {
  const run = mkdtempSync(join(dir, 'keepalived-'));
  const conf = join(run, 'keepalived.conf');
  const instance = ['vrrp_instance VI_1 {', `  state ${state}`, '  interface eth0', '  virtual_router_id 61', `  priority ${priority}`, '  advert_int 1'];
  writeFileSync(conf, ['global_defs {', `  vrrp_version ${c.version}`, '}', ...instance, `  virtual_ipaddress {\n    ${c.vip}\n  }`, '}', ''].join('\n'));
  const log: string[] = [];
  const proc = track(
    spawn('ip', ['netns', 'exec', NS, 'keepalived', '-n', '-l', '-D', '-P', '-f', conf, '-p', join(run, 'keepalived.pid'), '-r', join(run, 'vrrp.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    proc,
    text: () => log.join(''),
    tail: () => log.join('').split('\n').slice(-25).join('\n'),
    alive: () => {
      if (proc.exitCode !== null) throw new Error(`keepalived exited ${proc.exitCode}:\n${log.join('')}`);
      return true;
    },
    /** SIGTERM (a clean stop), SIGKILL after 30 s; true when it stopped by itself */
    async stop(): Promise<boolean> {
      if (proc.exitCode !== null || proc.signalCode !== null) return true;
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (proc.exitCode !== null || proc.signalCode !== null) return true;
      proc.kill('SIGKILL');
      await Promise.race([exited, sleep(10_000)]);
      return false;
    },
  };
}

for (const c of keepalivedCases) {
  test(`keepalived 2.2.7 as master (${c.name}) is heard: TTL 255, ${c.group}, first byte 0x${c.first.toString(16)}, vrid 61; its clean stop sends priority 0`, async () => {
    const a = VrrpSocket.open({ family: c.family, ifindex: aIndex });
    const got = collect(a);
    const ka = startKeepalived(c, 'MASTER', 150);
    try {
      const bSource = c.family === 4 ? B4 : linkLocal(['-n', NS], 'eth0');
      const advert = await until("keepalived's first advert", () => ka.alive() && got.find((r) => r.data[1] === 61 && r.data[2] === 150), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nkeepalived:\n${ka.tail()}`);
      });
      assert.equal(advert.ttl, 255);
      assert.equal(advert.dst, c.group);
      assert.equal(advert.src, bSource);
      assert.equal(advert.family, c.family);
      assert.equal(advert.ifindex, aIndex);
      assert.equal(advert.data[0], c.first, `version ${c.version}, type 1 (advertisement)`);
      assert.equal(advert.data[1], 61, 'the vrid');
      assert.equal(advert.data[3], 1, 'one address');
      assert.deepEqual(advert.data.subarray(8, 8 + VIP_BYTES[c.family].length), VIP_BYTES[c.family], 'the virtual address follows the header');
      console.log(`# keepalived ${c.name}: first advert ${advert.data.toString('hex')}`);

      ka.proc.kill('SIGTERM');
      const zero = await until('the priority-0 advert of the clean stop', () => got.find((r) => r.data[1] === 61 && r.data[2] === 0), 30_000);
      assert.equal(zero.ttl, 255);
    } finally {
      a.close();
      assert.ok(await ka.stop(), 'keepalived stopped by itself within 30 s');
    }
  });
}

/** The Internet checksum (RFC 1071), written out here so that this file checks the bytes itself. */
function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i] << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A valid advert for vrid 61 with the VIP, as RFC 3768 (v2, no auth) / RFC 5798 (v3, pseudo-header checksum) lay it out. */
function validAdvert(c: KeepalivedCase, priority: number, src: string, dst: string): Buffer {
  const vip = VIP_BYTES[c.family];
  if (c.version === 2) {
    const m = Buffer.concat([Buffer.from([0x21, 61, priority, 1, 0, 1, 0, 0]), vip, Buffer.alloc(8)]);
    m.writeUInt16BE(checksum(m), 6);
    return m;
  }
  const m = Buffer.concat([Buffer.from([0x31, 61, priority, 1, 0, 100, 0, 0]), vip]);
  const bytes = (a: string) => Buffer.from(c.family === 4 ? a.split('.').map(Number) : expand6(a));
  const pseudo = c.family === 4 ? Buffer.from([0, 112, 0, m.length]) : Buffer.from([0, 0, 0, m.length, 0, 0, 0, 112]);
  m.writeUInt16BE(checksum(Buffer.concat([bytes(src), bytes(dst), pseudo, m])), 6);
  return m;
}

function expand6(a: string): number[] {
  const [head, tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
}

for (const c of keepalivedCases) {
  test(`keepalived 2.2.7 as backup (${c.name}) accepts our adverts (priority 200 > its 150): it stays backup while they come, and takes over when they stop`, async () => {
    const a = VrrpSocket.open({ family: c.family, ifindex: aIndex });
    collect(a);
    const ka = startKeepalived(c, 'BACKUP', 150);
    const advert = validAdvert(c, 200, a.source, c.group);
    // one advert every 300 ms (keepalived's master-down interval is 3 x 1 s + skew)
    let sent = 0;
    const timer = setInterval(() => {
      a.send(advert, c.group);
      sent++;
    }, 300);
    try {
      a.send(advert, c.group);
      await until('keepalived to start', () => ka.alive() && /Entering BACKUP STATE/.test(ka.text()), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nkeepalived:\n${ka.tail()}`);
      });
      const startedAt = sent;
      // 8 s of adverts: keepalived would have taken over twice over without them
      await until('8 s of adverts', () => ka.alive() && sent - startedAt >= 8_000 / 300, 30_000, 100);
      assert.doesNotMatch(ka.text(), /Entering MASTER STATE/, `keepalived heard our adverts as a master's:\n${ka.tail()}`);
      assert.doesNotMatch(ka.text(), /invalid|bad|mismatch|error/i, `keepalived complained:\n${ka.tail()}`);
      clearInterval(timer);
      await until('keepalived to take over once our adverts stop', () => ka.alive() && /Entering MASTER STATE/.test(ka.text()), 30_000, 100);
      console.log(`# keepalived ${c.name} stayed backup through ${sent} adverts from ${a.source}, then took over`);
    } finally {
      clearInterval(timer);
      a.close();
      assert.ok(await ka.stop(), 'keepalived stopped by itself within 30 s');
    }
  });
}

test("a gratuitous ARP from here moves B's neighbour entry for the address to the sender's MAC (the interface's, or the one given)", async () => {
  const address = '198.18.5.77'; // on no interface: only the ARP can teach B a MAC for it
  inB('ip', ['neigh', 'replace', address, 'lladdr', '02:00:00:00:00:77', 'dev', 'eth0', 'nud', 'stale']);
  assert.equal(neighbourInB(address), '02:00:00:00:00:77');
  sendGratuitousArp(aIndex, address);
  const aMac = mac([], A_IF);
  await until(`B's entry for ${address} to be ${aMac}`, () => neighbourInB(address) === aMac, 10_000, 100);
  sendGratuitousArp(aIndex, address, Buffer.from('020000000099', 'hex'));
  await until(`B's entry for ${address} to be 02:00:00:00:00:99`, () => neighbourInB(address) === '02:00:00:00:00:99', 10_000, 100);
});

test("an unsolicited neighbour advertisement from here moves B's entry for the address to the sender's MAC (the interface's, or the one given)", async () => {
  const address = '2001:db8:5::77';
  inB('ip', ['-6', 'neigh', 'replace', address, 'lladdr', '02:00:00:00:00:77', 'dev', 'eth0', 'nud', 'stale']);
  assert.equal(neighbourInB(address), '02:00:00:00:00:77');
  sendUnsolicitedNa(aIndex, address);
  const aMac = mac([], A_IF);
  await until(`B's entry for ${address} to be ${aMac}`, () => neighbourInB(address) === aMac, 10_000, 100);
  sendUnsolicitedNa(aIndex, address, Buffer.from('020000000099', 'hex'));
  await until(`B's entry for ${address} to be 02:00:00:00:00:99`, () => neighbourInB(address) === '02:00:00:00:00:99', 10_000, 100);
});

test('errors in words: no such interface, an address not on it, no CAP_NET_RAW', () => {
  const missing = 99_999;
  assert.throws(() => VrrpSocket.open({ family: 4, ifindex: missing }), (err) => err instanceof VrrpIoError && /interface index 99999: if_indextoname: ENXIO \(no such interface\)/.test(err.message));
  assert.throws(
    () => VrrpSocket.open({ family: 4, ifindex: missing, source: A4 }),
    (err) => err instanceof VrrpIoError && /from 198\.18\.5\.1: if_indextoname: ENXIO \(no such interface\)/.test(err.message),
  );
  assert.throws(
    () => VrrpSocket.open({ family: 4, ifindex: aIndex, source: '198.18.5.9' }),
    (err) => err instanceof VrrpIoError && /from 198\.18\.5\.9: bind: EADDRNOTAVAIL/.test(err.message),
  );
  assert.throws(() => sendGratuitousArp(missing, '198.18.5.77'), (err) => err instanceof VrrpIoError && /no such interface/.test(err.message));
  assert.throws(() => sendGratuitousArp(ifindex([], 'lo'), '198.18.5.77'), (err) => err instanceof VrrpIoError && /EAFNOSUPPORT \(not an Ethernet interface\)/.test(err.message));
  // root without CAP_NET_RAW in its bounding set
  const script = `try { require(${JSON.stringify(IO_JS)}).VrrpSocket.open({ family: 4, ifindex: ${aIndex} }) } catch (e) { console.log(e.constructor.name + ': ' + e.message) }`;
  const r = spawnSync('setpriv', ['--bounding-set=-net_raw', process.execPath, '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^PermissionError: opening the IPv4 VRRP socket on interface index \d+ from 198\.18\.5\.1: socket: EPERM \(needs CAP_NET_RAW\)\n$/);
});
