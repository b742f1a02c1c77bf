// `lvsd ipvs list -c` reprints /proc/net/ip_vs_conn as `ipvsadm -L -c` does. Connections come
// from this namespace's own traffic to a virtual service (IPVS schedules locally sent packets);
// the real server's address leads into a dummy interface, so entries stay half-open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { ipvsadm, lvsdAsync, setUpNamespace } from '../../support/ipvs-lab';

const sockets: Socket[] = [];

before(async () => {
  setUpNamespace();
  ipvsadm(['-A', '-t', '198.18.0.50:7000', '-s', 'rr']);
  ipvsadm(['-a', '-t', '198.18.0.50:7000', '-r', '198.18.9.9:7001', '-m']);
  ipvsadm(['-A', '-u', '198.18.0.51:5060', '-s', 'rr', '-p', '60', '--pe', 'sip']);
  ipvsadm(['-a', '-u', '198.18.0.51:5060', '-r', '198.18.9.10:5060', '-m']);
  ipvsadm(['-A', '-t', '[2001:db8::50]:7000', '-s', 'rr']);
  ipvsadm(['-a', '-t', '[2001:db8::50]:7000', '-r', '[2001:db8::9:9]:7001', '-m']);
  for (const host of ['198.18.0.50', '2001:db8::50']) {
    const s = connect({ host, port: 7000 });
    s.on('error', () => undefined);
    sockets.push(s);
  }
  const udp = createSocket('udp4');
  const sip = 'OPTIONS sip:x@198.18.0.51 SIP/2.0\r\nCall-ID: lab-call-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
  await new Promise<void>((resolve) => udp.send(sip, 5060, '198.18.0.51', () => resolve()));
  udp.close();
  // wait (bounded) until the kernel shows the entries
  for (let i = 0; i < 50 && ipvsadm(['-L', '-n', '-c']).split('\n').length < 5; i++) await new Promise((r) => setTimeout(r, 100));
});

after(() => {
  for (const s of sockets) s.destroy();
});

/** The expiry column counts down between the two programs' reads: compare everything else. */
function withoutExpiry(text: string): string {
  return text.replace(/^(\S+\s+)\d\d+:\d\d(\s)/gm, '$1MM:SS$2');
}

test('lvsd ipvs list -n -c matches ipvsadm -L -n -c (expiry column aside)', async () => {
  const mine = await lvsdAsync(['ipvs', 'list', '-n', '-c']);
  const theirs = ipvsadm(['-L', '-n', '-c']);
  assert.ok(theirs.split('\n').length >= 5, `connections listed:\n${theirs}`);
  assert.match(theirs, /198\.18\.0\.50:7000/);
  assert.match(theirs, /\[2001:db8::50\]:7000/);
  assert.equal(withoutExpiry(mine), withoutExpiry(theirs));
});

test('lvsd ipvs list -n -c --persistent-conn matches ipvsadm (pe name and data columns)', async () => {
  const mine = await lvsdAsync(['ipvs', 'list', '-n', '-c', '--persistent-conn']);
  const theirs = ipvsadm(['-L', '-n', '-c', '--persistent-conn']);
  assert.match(theirs, /^UDP .* sip +\S+$/m, `a SIP persistence template with its pe data:\n${theirs}`);
  assert.equal(withoutExpiry(mine), withoutExpiry(theirs));
});

test('lvsd ipvs list -c --json has the same entries', async () => {
  const json = JSON.parse(await lvsdAsync(['ipvs', 'list', '-c', '--json']));
  const rows = ipvsadm(['-L', '-n', '-c']).split('\n').slice(2).filter(Boolean);
  assert.equal(json.length, rows.length);
  assert.ok(json.some((c: { virtual: { address: string; port: number } }) => c.virtual.address === '2001:db8::50' && c.virtual.port === 7000));
});
