// The counters listings with counters that are not zero: this namespace's own traffic to virtual
// services (IPVS schedules locally sent packets; the real servers lead into a dummy interface).
// Each listing is compared with ipvsadm's byte for byte, with the destination dumps run by the C
// transport and on sockets of the client's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { ipvsadm, lvsdAsync, setUpNamespace } from '../../support/ipvs-lab';

const sockets: Socket[] = [];

before(async () => {
  setUpNamespace();
  ipvsadm(['-A', '-t', '198.18.0.60:7000', '-s', 'rr']);
  ipvsadm(['-a', '-t', '198.18.0.60:7000', '-r', '198.18.9.20:7001', '-m', '-x', '100', '-y', '10']);
  ipvsadm(['-a', '-t', '198.18.0.60:7000', '-r', '198.18.9.21:7001', '-m', '-w', '3']);
  ipvsadm(['-A', '-u', '198.18.0.61:53', '-s', 'wrr', '-p', '30']);
  ipvsadm(['-a', '-u', '198.18.0.61:53', '-r', '198.18.9.22:53', '-m']);
  ipvsadm(['-A', '-t', '[2001:db8::60]:7000', '-s', 'rr']);
  ipvsadm(['-a', '-t', '[2001:db8::60]:7000', '-r', '[2001:db8::9:20]:7001', '-m']);
  for (const host of ['198.18.0.60', '198.18.0.60', '198.18.0.60', '2001:db8::60']) {
    const s = connect({ host, port: 7000 });
    s.on('error', () => undefined);
    sockets.push(s);
  }
  const udp = createSocket('udp4');
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => udp.send(Buffer.alloc(100 + i), 53, '198.18.0.61', () => resolve()));
  udp.close();
  // wait (bounded) until the kernel has counted all of it: kernel 6.1 sums the per-CPU counters
  // into what a dump reads on the estimator's 2 s tick, which can fall between two datagrams
  const counted = (s: string) => /198\.18\.0\.60:7000\s+3\s/.test(s) && /198\.18\.0\.61:53\s+1\s+20\s/.test(s);
  for (let i = 0; i < 80 && !counted(ipvsadm(['-L', '-n', '--stats'])); i++) await new Promise((r) => setTimeout(r, 100));
});

after(() => {
  for (const s of sockets) s.destroy();
});

// SYN retransmits and the rate estimator (every 2 s) move counters between two programs' reads:
// the same listing within a few tries; --rate's each started just after the estimator has moved
// (a decaying rate changes on every tick, and an emulated start takes a good part of one)
async function sameAsIpvsadm(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  let mine = '';
  let theirs = '';
  for (let i = 0; i < 8; i++) {
    if (args.includes('--rate')) {
      // wait (at most one tick) for the estimator to move, then read at once
      const before = ipvsadm(['-L', ...args]);
      for (const until = Date.now() + 2500; Date.now() < until && ipvsadm(['-L', ...args]) === before; ) await new Promise((r) => setTimeout(r, 50));
    }
    theirs = ipvsadm(['-L', ...args]);
    mine = await lvsdAsync(['ipvs', 'list', ...args], undefined, env);
    if (mine === theirs) return theirs;
  }
  assert.equal(mine, theirs);
  return theirs;
}

for (const env of [{}, { LVSD_NATIVE: '0' }]) {
  const how = env.LVSD_NATIVE ? 'dumps on sockets of its own' : 'dumps through the C transport';
  test(`--stats, --stats --exact, --rate: counted traffic, as ipvsadm lists it (${how})`, async () => {
    const stats = await sameAsIpvsadm(['-n', '--stats'], env);
    assert.match(stats, /^TCP  198\.18\.0\.60:7000\s+3\s+[1-9]/m, stats);
    assert.match(stats, /^UDP  198\.18\.0\.61:53\s+1\s+20\s+0\s+[1-9]/m, stats);
    await sameAsIpvsadm(['-n', '--stats', '--exact'], env);
    await sameAsIpvsadm(['-n', '--rate'], env);
  });

  test(`--thresholds, --persistent-conn, --nosort: as ipvsadm lists them (${how})`, async () => {
    const thresholds = await sameAsIpvsadm(['-n', '--thresholds'], env);
    assert.match(thresholds, /198\.18\.9\.20:7001\s+100\s+10\s/, thresholds);
    const persistent = await sameAsIpvsadm(['-n', '--persistent-conn'], env);
    assert.match(persistent, /198\.18\.9\.22:53\s+1\s+1\s/, persistent);
    await sameAsIpvsadm(['-n', '--stats', '--nosort'], env);
  });
}
