// The words and numbers the status page and `lvsd director status` show.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkReason, compact, latency, protoAndAddress, since, telling, weightText } from '../../../src/director/page/format';
import { escapeHtml } from '../../../src/director/page/html';
import { sampleStatus } from '../../support/director-fixture';

describe('status formatting', () => {
  it('since: seconds, minutes, hours, days; "-" without a time', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    const ago = (s: number) => new Date(now - s * 1000).toISOString();
    assert.deepEqual([ago(0), ago(59), ago(60), ago(3599), ago(3600), ago(86399), ago(90000)].map((t) => since(t, now)), ['0s', '59s', '1m00s', '59m59s', '1h00m', '23h59m', '1d01h']);
    assert.equal(since(undefined, now), '-');
    assert.equal(since('not a time', now), '-');
    assert.equal(since(ago(-5), now), '0s', 'a clock step backwards shows 0s, not a negative time');
  });

  it('compact numbers', () => {
    assert.deepEqual([0, 999, 1000, 1234, 99_999, 123_456, 5_000_000, 7e9].map(compact), ['0', '999', '1.0K', '1.2K', '100K', '123K', '5.0M', '7.0G']);
  });

  it('the telling check is the failing one; reason and latency read as words', () => {
    const [ok, , down] = sampleStatus().services[0].servers;
    assert.equal(checkReason(telling(ok)), 'mysql: replica lag 0 s');
    assert.equal(checkReason(telling(down)), 'mysql: replica lag 412 s > 60 s <script>window.__xss=1</script>');
    assert.equal(latency(telling(down)), '2.5 ms');
    assert.equal(latency({ kind: 'tcp', target: 'x', state: 'up', lastLatencyMs: 1234.4 }), '1234 ms');
    assert.equal(checkReason({ kind: 'tcp', target: 'x', state: 'down' }), 'tcp: not checked yet');
    assert.equal(checkReason(undefined), '-');
  });

  it('weight shows configured and kernel weights only where they differ', () => {
    const s = sampleStatus().services[0].servers[0];
    assert.equal(weightText(s), '3');
    assert.equal(weightText({ ...s, weight: 0 , kernelWeight: 0 }), '0 (cfg 3)');
    assert.equal(weightText({ ...s, kernelWeight: 1 }), '3 (kernel 1)');
    assert.equal(weightText({ ...s, kernelWeight: undefined }), '3 (not in kernel)');
  });

  it('protocol and address from the service address', () => {
    assert.deepEqual(protoAndAddress('198.18.0.10:3306/tcp'), ['TCP', '198.18.0.10:3306']);
    assert.deepEqual(protoAndAddress('[2001:db8::10]:53/udp'), ['UDP', '[2001:db8::10]:53']);
    assert.deepEqual(protoAndAddress('fwmark 5'), ['FWM', '5']);
  });

  it('escapeHtml leaves no markup', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
