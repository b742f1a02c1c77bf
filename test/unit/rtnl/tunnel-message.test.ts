// The RTM_NEWLINK that creates a tunnel: IFLA_IFNAME, IFLA_LINKINFO with IFLA_INFO_KIND, and
// IFLA_INFO_DATA in the kind's own attribute set (IFLA_IPTUN_* for ipip, IFLA_GRE_* for gre).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../src/netlink/schema';
import { NLM_F_CREATE, NLM_F_EXCL, parseMessages } from '../../../src/netlink/wire';
import { createTunnelMessage } from '../../../src/rtnl/link';
import { parseRtnl } from '../../../src/rtnl/socket';
import { IFINFOMSG, RTM_NEWLINK, greAttrs, iptunAttrs, linkAttrs } from '../../../src/rtnl/spec';

test('ipip and gre tunnels: kind, name and local address in the right attribute sets', () => {
  for (const [kind, set] of [['ipip', iptunAttrs], ['gre', greAttrs]] as const) {
    const msg = parseMessages(createTunnelMessage('lvsd-t1', kind, '192.0.2.1'))[0];
    assert.equal(msg.header.type, RTM_NEWLINK);
    assert.equal(msg.header.flags, NLM_F_CREATE | NLM_F_EXCL);
    const { header, attrs } = parseRtnl(msg, IFINFOMSG, linkAttrs);
    assert.deepEqual(header, { family: 0, pad: 0, type: 0, index: 0, flags: 0, change: 0 });
    assert.equal(attrs.ifname, 'lvsd-t1');
    assert.equal(attrs.linkinfo?.kind, kind);
    const data = decode(set, attrs.linkinfo!.data!);
    assert.deepEqual({ ...data, local: [...(data.local ?? [])] }, { pmtudisc: 1, local: [192, 0, 2, 1] });
  }
});

test('without a local address the tunnel has no fixed endpoint', () => {
  const { attrs } = parseRtnl(parseMessages(createTunnelMessage('tunl0', 'ipip'))[0], IFINFOMSG, linkAttrs);
  assert.deepEqual(decode(iptunAttrs, attrs.linkinfo!.data!), { pmtudisc: 1 });
});
