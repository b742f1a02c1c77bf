// TUN mode on the host kernel. This host's kernel may be built without ipip/gre (no modules at
// all): then what is proven here is the clear refusal; the full behaviour is proven in the lab
// (test/lab/realserver/tun.lab.test.ts), whose Debian kernel has both.
import { test } from 'node:test';
import { netns } from '../../support/netns';
import { catchAllTunnel, kernelHasTunnel, namedTunnel, refusedWithoutSupport } from '../../support/realserver/tun-cases';

for (const kind of ['ipip', 'gre'] as const) {
  test(`tun mode with ${kind}: the catch-all device gets the VIPs and rp_filter 0, and down restores it (or a clear refusal without ${kind} support)`, (t) => {
    const ns = netns(t);
    if (kernelHasTunnel(ns, kind)) {
      catchAllTunnel(ns, kind);
      namedTunnel(ns, kind);
    } else {
      t.diagnostic(`host kernel has no ${kind}: proving the refusal; the lab test proves the behaviour`);
      refusedWithoutSupport(ns, kind);
    }
  });
}
