// lvsd and keepalived 2.2.7 as the two peers of one instance (issue 20), beyond the IPv4 clean
// stops of vrrp-keepalived-interop: VRRPv3 over IPv6 (adverts from link-local addresses, an IPv6
// VIP), each taking over from the other; and the master's host dying (its link down, then
// SIGKILL) in both roles, the backup taking over within the master-down interval.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../support/lab-topology';
import { PairLab, keepalivedConfig, lvsdConfig, runAsync, type DirectorNode } from '../../support/vrrp-lab';

const lab = new PairLab();
const guard = (fn: () => Promise<void>) => lab.guard(fn);
const VIP6 = '2001:db8::10';
// 3 x advert 1 s + skew (256 - priority) / 256 s: the longest a backup waits after the last advert
const masterDownMs = (priority: number) => 3000 + ((256 - priority) * 1000) / 256;
const EMULATION_SLACK_MS = 1500;

before(async () => {
  await lab.build();
});
after(async () => {
  await lab.teardown();
});

function lvsdConfig6(node: DirectorNode, priority: number): string {
  return `${node.global()}services: []
vrrp:
  version: 3
  instances:
    - name: VI_6
      interface: eth0
      vrid: 52
      priority: ${priority}
      advert_interval: 1s
      addresses: [${VIP6}/128]
`;
}

function keepalivedConfig6(priority: number): string {
  return `global_defs {
  router_id lab_b
  vrrp_version 3
}
vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority ${priority}
  advert_int 1
  virtual_ipaddress {
    ${VIP6}/128
  }
}
`;
}

const only6 = (holder: 'a' | 'b') => () => {
  const [mine, other] = holder === 'a' ? [lab.a, lab.b] : [lab.b, lab.a];
  return mine.holdsVip(VIP6) && !other.holdsVip(VIP6);
};

describe('VRRPv3 over IPv6: lvsd (dir-a) and keepalived (dir-b)', () => {
  test('lvsd with the higher priority is master of the IPv6 VIP; keepalived stays backup', guard(async () => {
    lab.a.start('lvsd', lvsdConfig6(lab.a, 150));
    lab.b.start('keepalived', keepalivedConfig6(100));
    await lab.a.waitState('master', 60_000, 'VI_6');
    await waitFor('the IPv6 VIP on dir-a only', only6('a'), 15_000, 50);
    await new Promise((r) => setTimeout(r, 5000)); // keepalived's master-down interval is 3.6 s
    assert.ok(only6('a')(), 'keepalived took the IPv6 VIP: it did not accept lvsd\'s IPv6 adverts');
  }));

  test('lvsd stops cleanly: keepalived takes the IPv6 VIP over at once', guard(async () => {
    const stopping = lab.a.stop('SIGTERM');
    const took = await waitFor('keepalived holding the IPv6 VIP', only6('b'), 15_000, 20);
    await stopping;
    console.log(`# ipv6: keepalived held ${VIP6} ${took} ms after lvsd's SIGTERM`);
    assert.ok(took < 3000, `took ${took} ms: keepalived did not act on lvsd's priority 0`);
  }));

  test('lvsd starts again and preempts keepalived; every keepalived IPv6 advert passed its checks', guard(async () => {
    lab.a.start('lvsd', lvsdConfig6(lab.a, 150));
    const took = await waitFor('lvsd holding the IPv6 VIP alone', only6('a'), 60_000, 50);
    const v = (await lab.a.status())!.vrrp!.find((x) => x.name === 'VI_6')!;
    console.log(`# ipv6: lvsd preempted keepalived ${took} ms after its start; received ${v.counters.received}, invalid ${JSON.stringify(v.counters.invalid)}`);
    assert.ok(v.counters.received > 0, 'lvsd heard keepalived over IPv6');
    assert.deepEqual(v.counters.invalid, {});
  }));

  test('keepalived with a higher priority preempts lvsd; its clean stop hands the IPv6 VIP back at once', guard(async () => {
    await lab.b.stop('SIGTERM');
    lab.b.start('keepalived', keepalivedConfig6(200));
    const took = await waitFor('keepalived holding the IPv6 VIP alone', only6('b'), 20_000, 50);
    await lab.a.waitState('backup', 10_000, 'VI_6');
    console.log(`# ipv6: keepalived (priority 200) preempted lvsd ${took} ms after its start`);
    const stopping = lab.b.stop('SIGTERM');
    const back = await waitFor('lvsd holding the IPv6 VIP alone', only6('a'), 15_000, 20);
    await stopping;
    console.log(`# ipv6: lvsd held ${VIP6} ${back} ms after keepalived's SIGTERM`);
    assert.ok(back < 3000, `took ${back} ms: lvsd did not act on keepalived's priority 0`);
    await lab.a.stop('SIGTERM');
    assert.equal(lab.a.holdsVip(VIP6), false, 'a clean stop removes the VIP');
  }));
});

/** The node's host dies: its link goes down, then its processes are killed; the VIP it held stays on its dead interface. */
async function hostDies(node: DirectorNode): Promise<number> {
  const linkDown = node.prepareLinkDown();
  await linkDown();
  const at = Date.now();
  await node.kill();
  return at;
}

/** The dead host back, empty: link up and the stale VIP removed, as after a reboot. */
async function hostBack(node: DirectorNode): Promise<void> {
  await runAsync('ip', ['-n', node.ns, 'addr', 'del', '198.18.0.10/32', 'dev', 'eth0']);
  await node.setLink(true);
}

describe('the master\'s host dies: lvsd and keepalived (VRRPv3, IPv4) each take over from the other', () => {
  test('lvsd master dies: keepalived owns the VIP within the master-down interval', guard(async () => {
    lab.a.start('lvsd', lvsdConfig(lab.a, { priority: 150, version: 3, sync: false }));
    lab.b.start('keepalived', keepalivedConfig({ priority: 100, version: 3 }));
    await lab.a.waitState('master', 60_000);
    await waitFor('the VIP on dir-a only', lab.onlyOn('a'), 15_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    const at = await hostDies(lab.a);
    await waitFor('keepalived holding the VIP', () => lab.b.holdsVip(), 15_000, 10);
    const took = Date.now() - at;
    console.log(`# host death: keepalived held the VIP ${took} ms after lvsd's link went down (master down ${masterDownMs(100)} ms)`);
    await hostBack(lab.a);
    assert.ok(took <= masterDownMs(100) + EMULATION_SLACK_MS, `took ${took} ms`);
  }));

  test('keepalived master dies: lvsd owns the VIP within the master-down interval', guard(async () => {
    lab.a.start('lvsd', lvsdConfig(lab.a, { priority: 150, version: 3, sync: false }));
    await waitFor('lvsd holding the VIP alone (preempted keepalived)', lab.onlyOn('a'), 60_000, 50);
    await lab.b.stop('SIGTERM');
    lab.b.start('keepalived', keepalivedConfig({ priority: 200, version: 3 }));
    await waitFor('keepalived (priority 200) holding the VIP alone', lab.onlyOn('b'), 20_000, 50);
    await lab.a.waitState('backup', 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    const at = await hostDies(lab.b);
    await lab.a.waitState('master', 15_000);
    await waitFor('lvsd holding the VIP', () => lab.a.holdsVip(), 15_000, 10);
    const took = Date.now() - at;
    const v = (await lab.a.status())!.vrrp![0];
    console.log(`# host death: lvsd held the VIP ${took} ms after keepalived's link went down (master down ${masterDownMs(150)} ms); transitions ${v.counters.transitions}`);
    await hostBack(lab.b);
    await lab.a.stop('SIGTERM');
    assert.ok(took <= masterDownMs(150) + EMULATION_SLACK_MS, `took ${took} ms`);
  }));
});
