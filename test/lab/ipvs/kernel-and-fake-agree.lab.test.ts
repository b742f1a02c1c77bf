// The conformance cases (test/support/ipvs-conformance.ts) against the kernel through
// NetlinkIpvsClient: the same outcomes FakeIpvs gives on the host
// (test/host/ipvs/fake-ipvs-behaves-like-the-kernel.test.ts).
import { test, before, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import { openIpvs, NetlinkIpvsClient } from '../../../src/ipvs/client';
import { setUpNamespace } from '../../support/ipvs-lab';
import { CONFORMANCE_CASES } from '../../support/ipvs-conformance';

let client: NetlinkIpvsClient;
before(async () => {
  setUpNamespace(); // lab0 carries 198.18.0.1/15 and 2001:db8::1/32
  client = await openIpvs();
});
after(() => client?.close());

/** An empty table, default timeouts, no sync daemon: where every case starts. */
function reset(): void {
  execFileSync('ipvsadm', ['-C']);
  execFileSync('ipvsadm', ['--set', '900', '120', '300']);
  for (const state of ['master', 'backup']) {
    try {
      execFileSync('ipvsadm', ['--stop-daemon', state], { stdio: 'ignore' });
    } catch {
      // not running
    }
  }
}

for (const c of CONFORMANCE_CASES) {
  test(c.name, async () => {
    reset();
    await c.run({ ipvs: client, localAddress: '198.18.0.1', syncInterface: 'lab0' });
  });
}
