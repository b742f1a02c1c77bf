// Proves the lab gives each test file what the lab tests rely on: root, a kernel with IPVS,
// a fresh network namespace with only lo, and the reference client ipvsadm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

test('runs as root on a kernel with IPVS loaded', () => {
  assert.equal(process.getuid?.(), 0);
  const header = readFileSync('/proc/net/ip_vs', 'utf8').split('\n')[0];
  assert.match(header, /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$/);
});

// The tunnel modules give every new namespace a fallback device of their own (tunl0 once a test
// has loaded ipip, sit0, gre0, ...): those are the kernel's, and down.
const FALLBACK_TUNNELS = /^(tunl0|sit0|ip6tnl0|gre0|gretap0|erspan0|ip6gre0|ip_vti0|ip6_vti0)$/;

test('each test file has a fresh network namespace with only lo, up (and the kernel\'s fallback tunnels, down)', () => {
  const links = JSON.parse(sh('ip', ['-j', 'link', 'show'])) as { ifname: string; operstate: string; flags: string[] }[];
  const own = links.filter((l) => !FALLBACK_TUNNELS.test(l.ifname));
  assert.deepEqual(own.map((l) => l.ifname), ['lo']);
  assert.ok(own[0].flags.includes('UP'));
  for (const t of links.filter((l) => FALLBACK_TUNNELS.test(l.ifname))) assert.ok(!t.flags.includes('UP'), `${t.ifname} is up`);
  assert.notEqual(readlinkSync('/proc/self/ns/net'), readlinkSync('/proc/1/ns/net'), 'not in the guest\'s initial namespace');
});

test('the IPVS table of the namespace starts empty and ipvsadm can program it', () => {
  assert.equal(sh('ipvsadm', ['-S', '-n']), '');
  sh('ipvsadm', ['-A', '-t', '198.51.100.1:80', '-s', 'rr']);
  assert.equal(sh('ipvsadm', ['-S', '-n']), '-A -t 198.51.100.1:80 -s rr\n');
});
