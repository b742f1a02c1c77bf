// CAP_NET_ADMIN alone is enough, as lvsd-realserver.service grants it: as root with every other
// capability dropped, and as an unprivileged user holding only ambient CAP_NET_ADMIN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, netns } from '../../support/netns';
import { repoForNobody } from '../../support/runtime-copy';


for (const who of ['root', 'nobody'] as const) {
  test(`up and down work with CAP_NET_ADMIN only (${who})`, (t) => {
    const ns = netns(t);
    chmodSync(ns.dir, 0o777); // nobody must be able to write the state file there
    const state = join(ns.dir, 'state.json');
    const user = who === 'nobody' ? ['--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const caps = ['--inh-caps=-all,+net_admin', '--ambient-caps=-all,+net_admin', '--bounding-set=-all,+net_admin'];
    // nobody runs a copy it can read wherever the checkout sits (e.g. under a 0700 directory)
    const bin = join(who === 'nobody' ? repoForNobody() : REPO, 'bin/lvsd');
    const lvsd = (args: string[]) => ns.run('setpriv', [...user, ...caps, bin, 'realserver', ...args]);

    const probe = ns.run('setpriv', [...user, ...caps, 'grep', '^CapEff', '/proc/self/status']);
    assert.match(probe.stdout, /^CapEff:\s*0000000000001000$/m, 'exactly CAP_NET_ADMIN (bit 12)');

    const up = lvsd(['up', '--vip', '198.18.0.10', '--vip', '2001:db8::10', '--state', state]);
    assert.equal(up.status, 0, up.stderr);
    assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo 198.18.0.10/32 lo:0', 'lo 2001:db8::10/128', 'lo ::1/128']);
    assert.equal(ns.sysctl('net.ipv4.conf.all.arp_ignore'), '1');

    const down = lvsd(['down', '--state', state]);
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(ns.allAddrs(), ['lo 127.0.0.1/8', 'lo ::1/128']);
    assert.equal(ns.sysctl('net.ipv4.conf.all.arp_ignore'), '0');
  });
}
