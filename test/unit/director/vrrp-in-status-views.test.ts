// A director's VRRP instance as every status view shows it (from the fixture's MASTER instance:
// priority 90 of 100, 3 adverts dropped for their addresses and 1 for its TTL, 2 send errors):
// the `lvsd director status` line, the page's row, the JSON and each lvsd_vrrp_* metric line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus } from '../../../src/cli/director-control';
import { familyChunks } from '../../../src/director/metrics';
import { renderStatusPage } from '../../../src/director/page/html';
import { statusJsonChunks } from '../../../src/director/page/json';
import { sampleStatus } from '../../support/director-fixture';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const NOW = T0 + 3600_000; // the instance became MASTER at T0 + 3000 s: 10 minutes ago

test('`lvsd director status`: the VRRP line has state, priority, adverts, dropped adverts by reason, transitions and send errors', () => {
  const lines = formatStatus(sampleStatus(T0), NOW).split('\n');
  assert.deepEqual(
    lines.filter((l) => l.startsWith('vrrp ')),
    ['vrrp VI_1: MASTER for 10m00s, vrid 60 on eth0 (VRRPv2), priority 90 (configured 100), 198.18.0.10/32; adverts 3000 sent, 12 received, dropped: 3 addresses, 1 ttl; 2 transitions, 2 send errors'],
  );
});

test('the status page: the VRRP row says the same, MASTER marked ok', () => {
  const page = renderStatusPage(sampleStatus(T0), NOW);
  const row = /<tr><th>VRRP VI_1<\/th>.*?<\/tr>/.exec(page)?.[0];
  assert.equal(
    row,
    '<tr><th>VRRP VI_1</th><td><span class="ok">MASTER</span> for 10m00s, vrid 60 on eth0 (VRRPv2), priority 90 (configured 100), 198.18.0.10/32; adverts 3000 sent, 12 received, dropped: 3 addresses, 1 ttl; 2 transitions, 2 send errors</td></tr>',
  );
});

test('the status JSON carries the VRRP block whole: counters, dropped adverts by reason, send errors', () => {
  const st = sampleStatus(T0);
  const json = JSON.parse([...statusJsonChunks(st)].join('')) as typeof st;
  assert.deepEqual(json.vrrp, st.vrrp);
  assert.deepEqual(json.vrrp?.[0].counters.invalid, { addresses: 3, ttl: 1 });
  assert.equal(json.vrrp?.[0].counters.sendErrors, 2);
});

test('metrics: every lvsd_vrrp_* family, typed, with each instance value', () => {
  const text = [...familyChunks(sampleStatus(T0))].join('');
  const vrrp = text.split('\n').filter((l) => /^(# (HELP|TYPE) )?lvsd_vrrp_/.test(l));
  assert.deepEqual(
    vrrp.filter((l) => l.startsWith('# TYPE')),
    [
      '# TYPE lvsd_vrrp_state gauge',
      '# TYPE lvsd_vrrp_priority gauge',
      '# TYPE lvsd_vrrp_transitions_total counter',
      '# TYPE lvsd_vrrp_adverts_sent_total counter',
      '# TYPE lvsd_vrrp_adverts_received_total counter',
      '# TYPE lvsd_vrrp_adverts_invalid_total counter',
      '# TYPE lvsd_vrrp_send_errors_total counter',
    ],
  );
  assert.deepEqual(
    vrrp.filter((l) => !l.startsWith('#')),
    [
      'lvsd_vrrp_state{instance="VI_1",state="master"} 1',
      'lvsd_vrrp_priority{instance="VI_1"} 90',
      'lvsd_vrrp_transitions_total{instance="VI_1"} 2',
      'lvsd_vrrp_adverts_sent_total{instance="VI_1"} 3000',
      'lvsd_vrrp_adverts_received_total{instance="VI_1"} 12',
      'lvsd_vrrp_adverts_invalid_total{instance="VI_1",reason="addresses"} 3',
      'lvsd_vrrp_adverts_invalid_total{instance="VI_1",reason="ttl"} 1',
      'lvsd_vrrp_send_errors_total{instance="VI_1"} 2',
    ],
  );
});
