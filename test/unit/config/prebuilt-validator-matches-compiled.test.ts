// The director's validator written at build time (scripts/build-validators.js, ajv standalone)
// is the one a director uses, and it decides, fills defaults and reports exactly as the schema
// compiled at run time does; a module made from another schema is not used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECTOR_VALIDATOR_MODULE, DirectorConfigSchema } from '../../../src/config/director';
import { Problems, SchemaValidator } from '../../../src/config/validate';
import { parseYaml } from '../../../src/config/yaml';

const REPO = join(__dirname, '../../../..');
const prebuiltPath = join(REPO, 'dist/src/config', DIRECTOR_VALIDATOR_MODULE);
const prebuilt = new SchemaValidator(DirectorConfigSchema, { prebuilt: () => require(prebuiltPath) });
const compiled = new SchemaValidator(DirectorConfigSchema);

function outcome(v: SchemaValidator<typeof DirectorConfigSchema>, text: string) {
  const source = parseYaml(text, 'f.yaml');
  const problems = new Problems(source.locator);
  const ok = v.validate(source.data, problems);
  return { ok, errors: problems.list, data: source.data };
}

const examples = readdirSync(join(REPO, 'config')).filter((f) => /^director-.*\.yaml$/.test(f));

const BAD = [
  // unknown keys, a bad weight, a missing address, a wrong type
  'services:\n  - address: 198.18.0.10\n    port: 80\n    colour: red\n    servers:\n      - address: 198.18.0.21\n        weight: 70000\n      - port: 81\n',
  // a check kind that does not exist, and an option of another kind
  'services:\n  - address: 198.18.0.10\n    port: 3306\n    servers:\n      - address: 198.18.0.21\n        checks: [{ type: telnet }, { type: tcp, path: /x }]\n',
  // enum, duration and integer range
  'global:\n  log_level: loud\nservices:\n  - address: 198.18.0.10\n    port: 99999\n    scheduler: fastest\n    servers: []\n',
  'services: 5\n',
  'nothing: here\n',
];

test('the build wrote a validator made from the director schema of this build, and it is the one used', () => {
  assert.equal(prebuilt.prebuilt, true, `${prebuiltPath} is missing or stale: run npm run build`);
  assert.equal(compiled.prebuilt, false);
});

test('prebuilt and compiled agree on every example config: valid, with the same defaults filled in', () => {
  assert.ok(examples.length >= 4, `${examples.length} examples`);
  for (const f of examples) {
    const text = readFileSync(join(REPO, 'config', f), 'utf8');
    const a = outcome(prebuilt, text);
    assert.deepEqual(a, outcome(compiled, text), f);
    assert.equal(a.ok, true, `${f}: ${a.errors.join('; ')}`);
  }
});

test('prebuilt and compiled report the same problems, at the same places, for bad configs', () => {
  for (const text of BAD) {
    const a = outcome(prebuilt, text);
    assert.equal(a.ok, false, text);
    assert.ok(a.errors.length > 0);
    assert.deepEqual(a, outcome(compiled, text), text);
  }
});

test('a prebuilt module from another schema, or none at all, is not used: the schema is compiled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-validator-'));
  try {
    const stale = join(dir, 'stale.js');
    writeFileSync(stale, `${readFileSync(prebuiltPath, 'utf8')}\nmodule.exports.schemaHash = "0";\n`);
    const v = new SchemaValidator(DirectorConfigSchema, { prebuilt: () => require(stale) });
    assert.equal(v.prebuilt, false);
    assert.deepEqual(outcome(v, BAD[0]), outcome(compiled, BAD[0]));
    assert.equal(new SchemaValidator(DirectorConfigSchema, { prebuilt: () => require(join(dir, 'none.js')) }).prebuilt, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
