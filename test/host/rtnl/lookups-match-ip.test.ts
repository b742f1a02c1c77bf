// src/rtnl against the kernel, inside a namespace of the test's own, with `ip -j` as the judge:
// links and addresses read over rtnetlink match ip's view; lookups by name and index; each change
// (up/down, address add/delete, link delete) is what ip then shows; refusals keep their errno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, netns, type Netns } from '../../support/netns';

// One rtnl operation per run, inside the namespace (the test process itself stays in the host's).
const SCRIPT = `
const rtnl = require(${JSON.stringify(join(REPO, 'dist/src/rtnl/index.js'))});
const [op, ...args] = process.argv.slice(2);
(async () => {
  const sock = new rtnl.RtnlSocket();
  const v0 = await rtnl.linkByName(sock, 'lvsd-v0');
  const v4 = { index: v0.index, family: 4, address: '192.0.2.7', prefixlen: 24, label: 'lvsd-v0:x' };
  const v6 = { index: v0.index, family: 6, address: '2001:db8::7', prefixlen: 64, flags: rtnl.IFA_F.NODAD };
  let out;
  try {
    switch (op) {
      case 'read':
        out = {
          byName: v0,
          byIndex: await rtnl.linkByIndex(sock, v0.index),
          missing: (await rtnl.linkByName(sock, 'lvsd-none')) ?? null,
          links: (await rtnl.listLinks(sock)).map((l) => ({ name: l.name, index: l.index, up: l.up, kind: l.kind ?? null })),
          addrs: (await rtnl.listAddresses(sock)).map((a) => ({ index: a.index, address: a.address, prefixlen: a.prefixlen, label: a.label ?? null, nodad: !!(a.flags & rtnl.IFA_F.NODAD) })),
        };
        break;
      case 'up': await rtnl.setLinkUp(sock, v0, true); break;
      case 'down': await rtnl.setLinkUp(sock, v0, false); break;
      case 'add': await rtnl.addAddress(sock, v4); await rtnl.addAddress(sock, v6); break;
      case 'del4': await rtnl.deleteAddress(sock, v4); break;
      case 'dellink': await rtnl.deleteLink(sock, await rtnl.linkByName(sock, 'lvsd-v1')); break;
    }
  } catch (e) {
    out = { errno: e.errno, message: e.message };
  }
  sock.close();
  console.log(JSON.stringify(out ?? 'ok'));
})();
`;

type IpLink = { ifname: string; ifindex: number; flags: string[]; linkinfo?: { info_kind: string } };

function rtnl(ns: Netns, script: string, op: string): any {
  const r = ns.run(process.execPath, [script, op]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('rtnl reads links and addresses as ip does, and each of its changes is what ip then shows', (t) => {
  const ns = netns(t);
  ns.must('ip', ['link', 'add', 'lvsd-v0', 'type', 'veth', 'peer', 'name', 'lvsd-v1']);
  ns.must('ip', ['addr', 'add', '198.18.0.5/32', 'dev', 'lo', 'label', 'lo:3']);
  const script = join(ns.dir, 'rtnl.js');
  writeFileSync(script, SCRIPT);

  const read = rtnl(ns, script, 'read');
  const ipLinks = JSON.parse(ns.must('ip', ['-d', '-j', 'link'])) as IpLink[];
  assert.deepEqual(read.links, ipLinks.map((l) => ({ name: l.ifname, index: l.ifindex, up: l.flags.includes('UP'), kind: l.linkinfo?.info_kind ?? null })));
  assert.equal(read.byName.name, 'lvsd-v0');
  assert.equal(read.byName.kind, 'veth');
  assert.deepEqual(read.byIndex, read.byName);
  assert.equal(read.missing, null);
  const ipAddrs = (JSON.parse(ns.must('ip', ['-j', 'addr'])) as { ifindex: number; addr_info: { local: string; prefixlen: number; label?: string }[] }[]).flatMap((l) =>
    l.addr_info.map((a) => ({ index: l.ifindex, address: a.local, prefixlen: a.prefixlen, label: a.label ?? null })),
  );
  assert.deepEqual(read.addrs.map(({ nodad: _n, ...a }: { nodad: boolean }) => a), ipAddrs);

  assert.equal(rtnl(ns, script, 'up'), 'ok');
  assert.ok(ns.link('lvsd-v0')?.flags.includes('UP'));

  assert.equal(rtnl(ns, script, 'add'), 'ok');
  assert.deepEqual(
    ns.addrs('lvsd-v0').filter((a) => a.scope === 'global').map(({ local, prefixlen, label, nodad }) => ({ local, prefixlen, label, nodad })),
    [
      { local: '192.0.2.7', prefixlen: 24, label: 'lvsd-v0:x', nodad: undefined },
      { local: '2001:db8::7', prefixlen: 64, label: undefined, nodad: true },
    ],
  );
  const again = rtnl(ns, script, 'add');
  assert.equal(again.errno, 17);
  assert.match(again.message, /^adding 192\.0\.2\.7\/24 \(interface index \d+\): EEXIST/);

  assert.equal(rtnl(ns, script, 'del4'), 'ok');
  assert.deepEqual(ns.addrs('lvsd-v0').filter((a) => a.family === 'inet'), []);
  assert.equal(rtnl(ns, script, 'del4').errno, 99); // EADDRNOTAVAIL: already gone

  assert.equal(rtnl(ns, script, 'down'), 'ok');
  assert.ok(!ns.link('lvsd-v0')?.flags.includes('UP'));

  // Deleting one end of a veth pair deletes both.
  assert.equal(rtnl(ns, script, 'dellink'), 'ok');
  assert.equal(ns.link('lvsd-v1'), undefined);
  assert.equal(ns.link('lvsd-v0'), undefined);
});
