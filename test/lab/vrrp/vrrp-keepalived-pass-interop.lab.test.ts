// lvsd and keepalived 2.2.7 as the two peers of one VRRPv2 instance with simple password
// authentication (keepalived's authentication { auth_type PASS; auth_pass ... }, lvsd's
// auth_pass_file; RFC 2338 5.3.6.1), keepalived as the judge: keepalived drops an advert whose auth
// type or password is not its own, so its holding BACKUP proves it accepted lvsd's; lvsd's counters
// prove the other way; another password leaves both MASTER.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../support/lab-topology';
import { PairLab, keepalivedConfig, lvsdAuthPass, lvsdConfig } from '../../support/vrrp-lab';

const lab = new PairLab();
const guard = (fn: () => Promise<void>) => lab.guard(fn);

before(async () => {
  await lab.build();
});
after(async () => {
  await lab.teardown();
});

const onlyOn = (holder: 'a' | 'b') => lab.onlyOn(holder);

describe('VRRPv2 with auth_type PASS: lvsd (dir-a, auth_pass_file) and keepalived (dir-b)', () => {
  // longer than 8 bytes on lvsd's side: both use the first 8, as keepalived cuts auth_pass
  const lvsdSide = () => lvsdConfig(lab.a, { priority: 150, version: 2, sync: false, extra: lvsdAuthPass(lab.a, 'LabPass1-and-more') });

  test('the same password: lvsd is master and keepalived stays backup', guard(async () => {
    lab.a.start('lvsd', lvsdSide());
    lab.b.start('keepalived', keepalivedConfig({ priority: 100, version: 2, authPass: 'LabPass1' }));
    await lab.a.waitState('master', 60_000);
    await waitFor('the VIP on dir-a only', onlyOn('a'), 15_000, 50);
    // keepalived's master-down interval is 3.6 s: had it dropped lvsd's adverts it would take the VIP
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(onlyOn('a')(), 'keepalived took the VIP: it refused lvsd\'s authentication');
  }));

  test('keepalived preempts with the same password: lvsd accepts its adverts, none invalid; its clean stop hands back at once', guard(async () => {
    await lab.b.stop('SIGTERM');
    lab.b.start('keepalived', keepalivedConfig({ priority: 200, version: 2, authPass: 'LabPass1' }));
    await waitFor('keepalived holding the VIP alone', onlyOn('b'), 20_000, 50);
    await lab.a.waitState('backup', 10_000);
    const st = await lab.a.status();
    const v = st!.vrrp![0];
    console.log(`# PASS: lvsd counted ${v.counters.received} adverts from keepalived, invalid ${JSON.stringify(v.counters.invalid)}`);
    assert.equal(v.authentication, 'simple-password');
    assert.ok(v.counters.received > 0, 'lvsd heard keepalived');
    assert.deepEqual(v.counters.invalid, {}, 'every keepalived advert passed the checks');
    assert.ok(!JSON.stringify(st).includes('LabPass'), 'the password is in the status');
    const stopping = lab.b.stop('SIGTERM');
    const back = await waitFor('lvsd holding the VIP alone', onlyOn('a'), 15_000, 20);
    await stopping;
    assert.ok(back < 3000, `took ${back} ms: lvsd did not act on keepalived's priority 0`);
  }));

  test('another password on keepalived: neither hears the other, both hold the VIP, lvsd counts invalid auth', guard(async () => {
    lab.b.start('keepalived', keepalivedConfig({ priority: 100, version: 2, authPass: 'Other-pw' }));
    await waitFor('the VIP on both', () => lab.a.holdsVip() && lab.b.holdsVip(), 20_000, 50);
    const v = (await lab.a.status())!.vrrp![0];
    assert.equal(v.state, 'master');
    assert.ok((v.counters.invalid.auth ?? 0) > 0, `invalid ${JSON.stringify(v.counters.invalid)}`);
    assert.doesNotMatch(lab.a.log(200), /LabPass|Other-pw/);
    await Promise.all([lab.a.stop('SIGTERM'), lab.b.stop('SIGTERM')]);
  }));
});
