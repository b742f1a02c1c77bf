// readProcText reads a small /proc/net/ip_vs at once and a big one's rest on a worker thread,
// from the same open file: either way the bytes are the file's, in order; an unreadable file is
// undefined. (A regular file stands in for /proc here: the host kernel has no IPVS.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readProcText } from '../../../src/ipvs/procfs';

const dir = mkdtempSync(join(tmpdir(), 'lvsd-proc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('a small table is read whole, without a worker', async () => {
  const bytes = Buffer.from('IP Virtual Server version 1.2.1 (size=4096)\n');
  assert.deepEqual(await readProcText(file('small', bytes)), bytes);
});

for (const size of [64 << 10, (64 << 10) + 1, 3_000_001, 9 << 20]) {
  test(`${size} bytes come back whole and in order`, async () => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 12)) & 0xff;
    const got = await readProcText(file(`big-${size}`, bytes));
    assert.ok(got && got.equals(bytes), `got ${got?.length} bytes`);
  });
}

test('an unreadable file is undefined', async () => {
  assert.equal(await readProcText(join(dir, 'missing')), undefined);
});
