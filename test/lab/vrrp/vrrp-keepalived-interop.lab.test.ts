// lvsd and keepalived 2.2.7 as the two peers of one VRRP instance (issue 20), keepalived as the
// judge of the wire format: in VRRPv2 and VRRPv3, each takes over from the other (after a clean
// stop, and by preemption), and lvsd accepts every advert keepalived sends (none counted invalid).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../support/lab-topology';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LVSD } from '../../support/ipvs-lab';
import { DIRECTOR_A, DIRECTOR_B, PairLab, keepalivedConfig, lvsdConfig, runAsync } from '../../support/vrrp-lab';

const lab = new PairLab();
const guard = (fn: () => Promise<void>) => lab.guard(fn);

before(async () => {
  await lab.build();
});
after(async () => {
  await lab.teardown();
});

const onlyOn = (holder: 'a' | 'b') => lab.onlyOn(holder);

for (const version of [2, 3] as const) {
  describe(`VRRPv${version}: lvsd (dir-a) and keepalived (dir-b)`, () => {
    test('lvsd with the higher priority is master; keepalived stays backup', guard(async () => {
      lab.a.start('lvsd', lvsdConfig(lab.a, { priority: 150, version, sync: false }));
      lab.b.start('keepalived', keepalivedConfig({ priority: 100, version }));
      await lab.a.waitState('master', 60_000);
      await waitFor('the VIP on dir-a only', onlyOn('a'), 15_000, 50);
      await new Promise((r) => setTimeout(r, 3000));
      assert.ok(onlyOn('a')(), 'keepalived did not take the VIP');
    }));

    test('lvsd stops cleanly: keepalived takes over at once', guard(async () => {
      const stopping = lab.a.stop('SIGTERM');
      const took = await waitFor('keepalived holding the VIP', onlyOn('b'), 15_000, 20);
      await stopping;
      console.log(`# v${version}: keepalived held the VIP ${took} ms after lvsd's SIGTERM`);
      assert.ok(took < 3000, `took ${took} ms: keepalived did not act on lvsd's priority 0`);
    }));

    test('lvsd starts again and preempts keepalived', guard(async () => {
      lab.a.start('lvsd', lvsdConfig(lab.a, { priority: 150, version, sync: false }));
      await lab.a.waitState('backup', 60_000);
      const took = await waitFor('lvsd holding the VIP alone', onlyOn('a'), 20_000, 50);
      console.log(`# v${version}: lvsd preempted keepalived ${took} ms after its daemon answered`);
      const st = await lab.a.status();
      const v = st!.vrrp![0];
      console.log(`# v${version}: lvsd counted ${v.counters.received} adverts from keepalived, invalid ${JSON.stringify(v.counters.invalid)}`);
      assert.ok(v.counters.received > 0, 'lvsd heard keepalived');
      assert.deepEqual(v.counters.invalid, {}, 'every keepalived advert passed the checks');
    }));

    test('keepalived with a higher priority preempts lvsd; its clean stop hands back at once', guard(async () => {
      await lab.b.stop('SIGTERM');
      lab.b.start('keepalived', keepalivedConfig({ priority: 200, version }));
      const took = await waitFor('keepalived holding the VIP alone', onlyOn('b'), 20_000, 50);
      await lab.a.waitState('backup', 10_000);
      console.log(`# v${version}: keepalived (priority 200) preempted lvsd ${took} ms after its start`);
      const stopping = lab.b.stop('SIGTERM');
      const back = await waitFor('lvsd holding the VIP alone', onlyOn('a'), 15_000, 20);
      await stopping;
      console.log(`# v${version}: lvsd held the VIP ${back} ms after keepalived's SIGTERM`);
      assert.ok(back < 3000, `took ${back} ms: lvsd did not act on keepalived's priority 0`);
      await lab.a.stop('SIGTERM');
      assert.equal(lab.a.holdsVip(), false);
    }));
  });
}

describe('VRRPv3 over unicast peers (no multicast): lvsd (dir-a) and keepalived (dir-b)', () => {
  const lvsdSide = () => lvsdConfig(lab.a, { priority: 150, version: 3, sync: false, extra: `      unicast_peers: [${DIRECTOR_B}]\n` });

  test('lvsd is master and keepalived, hearing its unicast adverts, stays backup', guard(async () => {
    lab.a.start('lvsd', lvsdSide());
    lab.b.start('keepalived', keepalivedConfig({ priority: 100, version: 3, unicastPeer: DIRECTOR_A }));
    await lab.a.waitState('master', 60_000);
    await waitFor('the VIP on dir-a only', onlyOn('a'), 15_000, 50);
    await new Promise((r) => setTimeout(r, 5000)); // keepalived's master-down interval is 3.6 s
    assert.ok(onlyOn('a')(), 'keepalived took the VIP: it did not hear lvsd\'s unicast adverts');
  }));

  test('keepalived preempts over unicast; lvsd accepts its adverts, none invalid; its clean stop hands back at once', guard(async () => {
    await lab.b.stop('SIGTERM');
    lab.b.start('keepalived', keepalivedConfig({ priority: 200, version: 3, unicastPeer: DIRECTOR_A }));
    await waitFor('keepalived holding the VIP alone', onlyOn('b'), 20_000, 50);
    await lab.a.waitState('backup', 10_000);
    const v = (await lab.a.status())!.vrrp![0];
    console.log(`# unicast: lvsd counted ${v.counters.received} adverts from keepalived, invalid ${JSON.stringify(v.counters.invalid)}`);
    assert.ok(v.counters.received > 0, 'lvsd heard keepalived');
    assert.deepEqual(v.counters.invalid, {}, 'every keepalived advert passed the checks');
    const stopping = lab.b.stop('SIGTERM');
    const back = await waitFor('lvsd holding the VIP alone', onlyOn('a'), 15_000, 20);
    await stopping;
    console.log(`# unicast: lvsd held the VIP ${back} ms after keepalived's SIGTERM`);
    assert.ok(back < 3000, `took ${back} ms: lvsd did not act on keepalived's priority 0`);
    await lab.a.stop('SIGTERM');
  }));
});

describe('an imported pair: lvsd runs `lvsd director import-keepalived` of the keepalived.conf its peer runs', () => {
  /** keepalived.conf for dir-a, imported; the lab node's own files (state, socket) added */
  const imported = async (priority: number) => {
    const conf = join(lab.a.dir, 'imported-keepalived.conf');
    writeFileSync(conf, keepalivedConfig({ priority, version: 2 }));
    const r = await runAsync(LVSD, ['director', 'import-keepalived', conf]);
    assert.equal(r.status, 3, `import: ${r.stderr}`); // router_id has no lvsd equivalent, and says so
    assert.match(r.stderr, /router_id: not about IPVS/);
    return `${lab.a.global()}${r.stdout}`;
  };

  test('the import with the higher priority is master; keepalived stays backup; a clean stop hands over at once', guard(async () => {
    lab.a.start('lvsd', await imported(150));
    lab.b.start('keepalived', keepalivedConfig({ priority: 100, version: 2 }));
    await lab.a.waitState('master', 60_000);
    await waitFor('the VIP on dir-a only', onlyOn('a'), 15_000, 50);
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(onlyOn('a')(), 'keepalived took the VIP');
    const stopping = lab.a.stop('SIGTERM');
    const took = await waitFor('keepalived holding the VIP', onlyOn('b'), 15_000, 20);
    await stopping;
    console.log(`# imported: keepalived held the VIP ${took} ms after lvsd's SIGTERM`);
    assert.ok(took < 3000, `took ${took} ms`);
  }));

  test('the import back with the higher priority preempts keepalived, as keepalived itself would (preempt is keepalived\'s default)', guard(async () => {
    lab.a.start('lvsd', await imported(150));
    const took = await waitFor('lvsd holding the VIP alone', onlyOn('a'), 60_000, 50);
    const v = (await lab.a.status())!.vrrp![0];
    console.log(`# imported: lvsd preempted keepalived ${took} ms after its start; received ${v.counters.received}, invalid ${JSON.stringify(v.counters.invalid)}`);
    assert.ok(v.counters.received > 0);
    assert.deepEqual(v.counters.invalid, {});
    await Promise.all([lab.a.stop('SIGTERM'), lab.b.stop('SIGTERM')]);
  }));
});
