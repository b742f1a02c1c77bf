// The lab scenarios' configs (config/lab) are valid director configs: the demo and the e2e lab
// tests must never start on a file the daemon would refuse.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDirectorConfig } from '../../../src/config/director';

const DIR = join(__dirname, '..', '..', '..', '..', 'config', 'lab');

test('every config/lab/*.yaml validates (files not checked: the lab writes them)', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 4, `found ${files.join(', ')}`);
  for (const f of files) {
    const config = parseDirectorConfig(readFileSync(join(DIR, f), 'utf8'), f, { checkFiles: false });
    assert.ok(config.services.length > 0, `${f} has services`);
  }
});
