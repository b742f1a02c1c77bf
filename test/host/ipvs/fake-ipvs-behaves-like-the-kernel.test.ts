// The conformance cases (test/support/ipvs-conformance.ts) against FakeIpvs; the lab runs the
// same cases against the kernel (test/lab/ipvs/kernel-and-fake-agree.lab.test.ts).
import { test } from 'node:test';
import { FakeIpvs } from '../../../src/ipvs/fake';
import { CONFORMANCE_CASES } from '../../support/ipvs-conformance';

for (const c of CONFORMANCE_CASES) {
  test(c.name, async () => {
    const ipvs = new FakeIpvs({ interfaces: ['lab0'] });
    try {
      await c.run({ ipvs, localAddress: '198.18.0.1', syncInterface: 'lab0' });
    } finally {
      ipvs.close();
    }
  });
}
