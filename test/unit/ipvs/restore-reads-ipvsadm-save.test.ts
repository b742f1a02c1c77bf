// `lvsd ipvs restore` reads what `ipvsadm -S` writes and ipvsadm -R lines; any bad line is named
// (with the option) and nothing is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRestore, parseRestore, RestoreApplyError, RestoreError } from '../../../src/ipvs/restore';
import { formatSave } from '../../../src/ipvs/format/save';
import { numericNamer } from '../../../src/ipvs/format/names';
import { canonicalAddress } from '../../../src/ipvs/address';
import type { ApplyOptions, IpvsOp, RealServer, VirtualService } from '../../../src/ipvs/types';
import { FakeIpvs } from '../../../src/ipvs/fake';
import { loadExpectedListings, loadFixtureTable } from '../../support/ipvs-table';

function settings(s: VirtualService) {
  return { key: s.key, scheduler: s.scheduler, flags: s.flags, timeout: s.timeout, netmask: s.netmask, pe: s.persistenceEngine };
}
function serverSettings(r: RealServer) {
  return { key: { ...r.key, address: canonicalAddress(r.key.family, r.key.address) }, forward: r.forward === 'local' ? 'route' : r.forward, weight: r.weight, tunnelType: r.tunnelType, tunnelPort: r.tunnelPort, tunnelChecksum: r.tunnelChecksum };
}

test('ipvsadm -S -n output parses back into the same services and real servers', () => {
  const { entries } = loadFixtureTable();
  // sh with only flag-3 saves as "-b " with no value, which ipvsadm -R rejects too: leave it out
  const usable = entries.filter((e) => !(e.service.scheduler === 'sh' && e.service.flags === 0x20));
  const text = formatSave(usable, numericNamer);
  const lines = parseRestore(text);
  const services = lines.flatMap((l) => (l.command.kind === 'add-service' ? [settings(l.command.service)] : []));
  const wanted = new Map(usable.map((e) => [JSON.stringify(e.service.key), e]));
  assert.equal(services.length, usable.length);
  for (const s of services) assert.deepEqual(s, settings(wanted.get(JSON.stringify(s.key))!.service));
  const servers = lines.flatMap((l) => (l.command.kind === 'add-server' ? [{ svc: JSON.stringify(l.command.service), rs: serverSettings(l.command.server) }] : []));
  const wantedServers = usable.flatMap((e) => e.realServers.map((r) => ({ svc: JSON.stringify(e.service.key), rs: serverSettings(r) })));
  const byKey = (x: { svc: string; rs: { key: unknown } }) => x.svc + JSON.stringify(x.rs.key);
  assert.deepEqual(servers.map(byKey).sort(), wantedServers.map(byKey).sort());
  for (const s of servers) assert.deepEqual(s, wantedServers.find((w) => byKey(w) === byKey(s)));
});

test('the oracle\'s save text (ipvsadm -S -n) parses, except the line ipvsadm cannot read back either', () => {
  const lines = loadExpectedListings().save.split('\n');
  const bad = lines.findIndex((l) => l.endsWith(' -b '));
  assert.ok(bad >= 0);
  assert.throws(() => parseRestore(lines.join('\n')), (err: unknown) => err instanceof RestoreError && err.problems.length === 1 && err.problems[0].line === bad + 1 && /-b: needs a value/.test(err.message));
  const rest = lines.filter((_, i) => i !== bad);
  assert.equal(parseRestore(rest.join('\n')).length, rest.filter(Boolean).length);
  assert.ok(parseRestore(rest.join('\n')).some((l) => l.command.kind === 'add-service' && l.command.service.key.fwmark === 4294967295), '"-f -1" reads back as mark 4294967295');
});

test('accepts an "ipvsadm" prefix, comments, blank lines, long options, --opt=value and bundled -At', () => {
  const lines = parseRestore(
    [
      '# saved by hand',
      '',
      'ipvsadm -A -t 198.18.0.1:80 -s rr',
      '--add-server --tcp-service=198.18.0.1:80 --real-server 198.18.1.1 --masquerading --weight 3 # comment',
      '-At 198.18.0.2:443 -p',
      '-a -t 198.18.0.2:443 -r 198.18.1.2:8443 -gw 7',
      '-e -t 198.18.0.2:443 -r 198.18.1.2 -m -x 100 -y 10',
      '-d -t 198.18.0.2:443 -r 198.18.1.2',
      '-E -u 198.18.0.3:53 -s sh -b sh-port,sh-fallback -o',
      '-D -t 198.18.0.1:80',
      '-Z',
      '-C',
      '--set 900 0 300',
    ].join('\n'),
  );
  assert.deepEqual(
    lines.map((l) => [l.line, l.command.kind]),
    [[3, 'add-service'], [4, 'add-server'], [5, 'add-service'], [6, 'add-server'], [7, 'edit-server'], [8, 'delete-server'], [9, 'edit-service'], [10, 'delete-service'], [11, 'zero'], [12, 'flush'], [13, 'set-timeouts']],
  );
  const byLine = new Map(lines.map((l) => [l.line, l.command]));
  assert.deepEqual(byLine.get(3), { kind: 'add-service', service: { key: { family: 'inet', protocol: 'tcp', address: '198.18.0.1', port: 80 }, scheduler: 'rr', flags: 0, timeout: 0, netmask: '255.255.255.255' } });
  assert.deepEqual(byLine.get(4), {
    kind: 'add-server',
    service: { family: 'inet', protocol: 'tcp', address: '198.18.0.1', port: 80 },
    server: { key: { family: 'inet', address: '198.18.1.1', port: 80 }, forward: 'masq', weight: 3, upperThreshold: 0, lowerThreshold: 0 },
  });
  const persistent = byLine.get(5);
  assert.ok(persistent?.kind === 'add-service');
  assert.equal(persistent.service.scheduler, 'wlc', 'default scheduler is wlc');
  assert.equal(persistent.service.timeout, 360, '-p without a value is 6 minutes (IPVS_SVC_PERSISTENT_TIMEOUT)');
  const dr = byLine.get(6);
  assert.ok(dr?.kind === 'add-server');
  assert.equal(dr.server.key.port, 443, 'direct routing forwards to the service port whatever -r says');
  assert.equal(dr.server.weight, 7);
  const edit = byLine.get(7);
  assert.ok(edit?.kind === 'edit-server');
  assert.deepEqual([edit.server.key.port, edit.server.weight, edit.server.upperThreshold, edit.server.lowerThreshold], [443, 1, 100, 10]);
  const sh = byLine.get(9);
  assert.ok(sh?.kind === 'edit-service');
  assert.equal(sh.service.flags, 0x4 | 0x8 | 0x10);
  assert.deepEqual(byLine.get(13), { kind: 'set-timeouts', timeouts: { tcp: 900, tcpFin: 0, udp: 300 } });
});

const BAD: [string, RegExp][] = [
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -w 70000', /^-w: 70000 is out of range 0\.\.65535$/],
  ['-A -t 198.18.0.1:80 -p 0', /^-p: 0 is out of range 1\.\.2678400$/],
  ['-A -t 198.18.0.1 -s rr', /port 0 is only allowed for a persistent service/],
  ['-A -t 198.18.0.1:80 -o', /^-o: one-packet scheduling is only for UDP/],
  ['-A -t 198.18.0.1:80 -s wlc -b sh-port', /^-b: scheduler flag 'sh-port' needs scheduler sh, not wlc$/],
  ['-A -t 198.18.0.1:80 -b bogus', /^-b: unknown scheduler flag 'bogus'/],
  ['-A -t 198.18.0.1:80 -6', /^-6: only goes with -f/],
  ['-A -f 0', /^-f: the mark must not be 0$/],
  ['-A -f 4294967296', /^-f: 4294967296 is out of range -2147483648\.\.4294967295$/],
  ['-A -t 198.18.0.300:80', /^-t: '198\.18\.0\.300' is not an IP address/],
  ['-A -t [2001:db8::1]', /^-t: '\[2001:db8::1\]' is not \[IPv6-address\]:port$/],
  ['-A -t 198.18.0.1:80 -u 198.18.0.1:80', /^-u: conflicts with -t$/],
  ['-A -t 198.18.0.1:80 -w 3', /^-w: not an option of add-service$/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -g -m', /^-m: conflicts with -g$/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 --tun-type gue', /^--tun-type: tunnel options need tunneling/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -i --tun-type gue', /^--tun-port: required with --tun-type gue$/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -i --tun-type gre --tun-remcsum', /^--tun-remcsum: not an option of the gre tunnel type$/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -i --tun-type gue --tun-port 6080 --tun-csum --tun-nocsum', /^--tun-csum: conflicts with --tun-nocsum$|^--tun-nocsum: conflicts with --tun-csum$/],
  ['-a -t 198.18.0.1:80 -r 198.18.1.1 -i --tun-type vxlan', /^--tun-type: 'vxlan' is not a tunnel type/],
  ['-a -t 198.18.0.1:80 -r [2001:db8::1]:80', /needs tunneling \(-i\)/],
  ['-a -t 198.18.0.1:80', /a real server is required/],
  ['-L -n', /'-L' is not a command ipvsadm -R accepts/],
  ['-A -t 198.18.0.1:80 --frobnicate', /^--frobnicate: unknown option$/],
  ['-A -t 198.18.0.1:80 extra', /^unexpected argument 'extra'$/],
  ['--set 1 2', /expected 3 values/],
  ['-A -t "198.18.0.1:80', /unterminated " quote/],
];

for (const [line, message] of BAD) {
  test(`rejects '${line}' naming line and option`, () => {
    const input = `-A -t 198.18.0.9:80\n\n${line}\n-A -t 198.18.0.8:80\n`;
    assert.throws(
      () => parseRestore(input),
      (err: unknown) => {
        assert.ok(err instanceof RestoreError);
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].line, 3);
        assert.match(err.problems[0].message, message);
        assert.match(err.message, /^line 3: /);
        return true;
      },
    );
  });
}

test('every bad line is reported, not just the first', () => {
  assert.throws(
    () => parseRestore('-A -t 198.18.0.1:80\n-a -t 198.18.0.1:80 -r 198.18.1.1 -w -1\n-A -t x\n-A -t 198.18.0.2:80\n-Q\n'),
    (err: unknown) => err instanceof RestoreError && err.problems.map((p) => p.line).join() === '2,3,5' && /^line 2: .* \(and 2 more bad lines\)$/.test(err.message),
  );
});

/** FakeIpvs, with the batches it was sent recorded. */
function recording(fake = new FakeIpvs()) {
  const sent: IpvsOp[][] = [];
  return {
    sent,
    fake,
    apply: (ops: readonly IpvsOp[], opts?: ApplyOptions) => {
      sent.push([...ops]);
      return fake.apply(ops, opts);
    },
    readTable: () => fake.readTable(),
    readTimeouts: () => fake.readTimeouts(),
  };
}

test('a bad restore input applies nothing: validation fails before anything is sent', async () => {
  const kernel = recording();
  await assert.rejects(async () => applyRestore(kernel, parseRestore('-A -t 198.18.0.1:80\n-a -t 198.18.0.1:80 -r 198.18.1.1 -w 70000\n')), RestoreError);
  assert.equal(kernel.sent.length, 0);
});

test('restore applies in batches, in order, and names the line the kernel refused', async () => {
  const text = Array.from({ length: 10 }, (_, i) => `-A -t 198.18.0.${i + 1}:80`).join('\n');
  const ok = recording();
  assert.deepEqual(await applyRestore(ok, parseRestore(text), 4), { applied: 10 });
  assert.deepEqual(ok.sent.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(ok.sent.flat().map((op) => (op.kind === 'add-service' ? op.service.key.address : '')), Array.from({ length: 10 }, (_, i) => `198.18.0.${i + 1}`));
  const refusing = recording();
  await refusing.fake.apply(parseRestore('-A -t 198.18.0.6:80 -s rr').map((l) => l.command));
  await assert.rejects(applyRestore(refusing, parseRestore('# header\n' + text), 4), (err: unknown) => {
    assert.ok(err instanceof RestoreApplyError);
    assert.equal(err.line, 7);
    assert.equal(err.message, 'line 7: service 198.18.0.6:80 already exists (nothing applied: 5 of 10 commands had been applied and were undone, the table is as before)');
    assert.deepEqual([err.applied, err.undone], [5, true]);
    return true;
  });
  assert.deepEqual(refusing.sent.map((b) => b.length), [4, 4, 5], 'two batches, then the undo; nothing after the refusal');
  assert.deepEqual((await refusing.fake.readTable()).map((e) => [e.service.key.address, e.service.scheduler]), [['198.18.0.6', 'rr']]);
});
