// config/director.schema.json is what the schema declaration gives today (regenerate with
// `npm run codegen`), and it is a JSON Schema a plain validator (as editors use) can apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { directorJsonSchema } from '../../../src/config/director';

const REPO = join(__dirname, '../../../..');
const shipped = JSON.parse(readFileSync(join(REPO, 'config/director.schema.json'), 'utf8')) as Record<string, unknown>;

test('the shipped config/director.schema.json equals the schema regenerated in memory', () => {
  assert.deepEqual(shipped, JSON.parse(directorJsonSchema()), 'config/director.schema.json is stale: run npm run codegen');
});

test('a plain JSON Schema validator accepts a good config and refuses an unknown key and a bad weight', () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(shipped);
  const good = parse('services:\n  - address: 198.18.0.10\n    port: 80\n    servers:\n      - address: 198.18.0.21\n        checks: [{ type: http, path: /health }]\n');
  assert.equal(validate(good), true, JSON.stringify(validate.errors));
  const bad = parse('services:\n  - address: 198.18.0.10\n    port: 80\n    colour: red\n    servers:\n      - address: 198.18.0.21\n        weight: 70000\n');
  assert.equal(validate(bad), false);
  const kinds = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`).sort();
  assert.deepEqual(kinds, ['/services/0 additionalProperties', '/services/0/servers/0/weight maximum']);
});
