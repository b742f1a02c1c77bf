// The client finds the "IPVS" generic netlink family and reads IPVS_CMD_GET_INFO; the kernel's
// own /proc/net/ip_vs header is the judge of the version and connection-table size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { GenlSocket } from '../../../src/netlink/genl';
import { openIpvs } from '../../../src/ipvs/client';

test('IPVS_CMD_GET_INFO reports the version and table size /proc/net/ip_vs shows', async () => {
  execFileSync('modprobe', ['ip_vs']);
  const header = readFileSync('/proc/net/ip_vs', 'utf8').split('\n')[0];
  const m = /^IP Virtual Server version (\d+)\.(\d+)\.(\d+) \(size=(\d+)\)$/.exec(header);
  assert.ok(m, header);
  const client = await openIpvs();
  try {
    const info = await client.info();
    assert.equal(info.version, (Number(m[1]) << 16) | (Number(m[2]) << 8) | Number(m[3]));
    assert.equal(info.connectionTableSize, Number(m[4]));
    assert.equal(header, 'IP Virtual Server version 1.2.1 (size=4096)'); // what Debian's 6.1 ships
  } finally {
    client.close();
  }
});

test('the "IPVS" family resolves to the id the kernel lists, with version 1', async () => {
  const sock = new GenlSocket();
  try {
    const fam = await sock.family('IPVS');
    assert.equal(fam.name, 'IPVS');
    assert.equal(fam.version, 1);
    assert.ok(fam.id >= 0x10);
    assert.equal((await openIpvs().then((c) => (c.close(), c.familyId))), fam.id);
  } finally {
    sock.close();
  }
});
