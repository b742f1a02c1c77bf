// The validation module: one schema gives defaults and checks; every problem is reported at once
// as file:line:column: path: message, unknown keys included, in file order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ConfigError, InputError } from '../../../src/errors';
import { Problems, SchemaValidator, canonicalAddress, durationMs } from '../../../src/config/validate';
import { formatPath, parseYaml } from '../../../src/config/yaml';

const Item = Type.Object(
  { address: Type.String(), weight: Type.Integer({ minimum: 0, maximum: 65535, default: 1 }) },
  { additionalProperties: false },
);
const Root = Type.Object({ name: Type.String({ default: 'x' }), items: Type.Array(Item) }, { additionalProperties: false });
const validator = new SchemaValidator(Root);

function check(text: string): { data: unknown; errors: string[] } {
  const source = parseYaml(text, 'f.yaml');
  assert.deepEqual(source.syntaxErrors, []);
  const problems = new Problems(source.locator);
  validator.validate(source.data, problems);
  return { data: source.data, errors: problems.list };
}

test('defaults from the schema are applied to the data', () => {
  const { data, errors } = check('items:\n  - address: a\n');
  assert.deepEqual(errors, []);
  assert.deepEqual(data, { name: 'x', items: [{ address: 'a', weight: 1 }] });
});

test('every problem at once, in file order, each with line:column and the key path', () => {
  const { errors } = check('items:\n  - address: a\n    weight: 70000\n  - address: 5\n    colour: red\nextra: 1\n');
  assert.deepEqual(errors, [
    'f.yaml:3:13: items[0].weight: 70000 is out of range (0..65535)',
    'f.yaml:4:14: items[1].address: must be a string, got 5',
    'f.yaml:5:5: items[1].colour: unknown key (known: address, weight)',
    'f.yaml:6:1: extra: unknown key (known: name, items)',
  ]);
});

test('a missing required key points at the mapping that lacks it', () => {
  assert.deepEqual(check('name: y\nitems:\n  - weight: 2\n').errors, ['f.yaml:3:5: items[0]: missing required key "address"']);
});

test('YAML syntax errors name the place', () => {
  const source = parseYaml('items: [a\nname: b\n', 'f.yaml');
  assert.equal(source.syntaxErrors.length > 0, true);
  assert.match(source.syntaxErrors[0], /^f\.yaml:\d+:\d+: /);
  const dup = parseYaml('name: a\nname: b\n', 'f.yaml');
  assert.match(dup.syntaxErrors[0], /^f\.yaml:2:1: Map keys must be unique/);
});

test('ConfigError carries every problem and is an InputError', () => {
  const err = new ConfigError(['a: one', 'b: two']);
  assert.ok(err instanceof InputError);
  assert.deepEqual(err.errors, ['a: one', 'b: two']);
  assert.equal(err.message, 'a: one\nb: two');
});

test('paths, durations and addresses', () => {
  assert.equal(formatPath(['services', 0, 'servers', 2, 'weight']), 'services[0].servers[2].weight');
  assert.equal(durationMs('1m30s'), 90_000);
  assert.equal(durationMs('500ms'), 500);
  assert.equal(durationMs(2), 2000);
  assert.equal(durationMs('1.5'), 1500);
  assert.equal(durationMs('1h'), 3_600_000);
  assert.equal(durationMs('5 minutes'), undefined);
  assert.deepEqual(canonicalAddress('2001:DB8:0::0010'), { address: '2001:db8::10', family: 'inet6' });
  assert.deepEqual(canonicalAddress('198.18.0.1'), { address: '198.18.0.1', family: 'inet' });
  assert.equal(canonicalAddress('198.18.0.300'), '"198.18.0.300" is not an IPv4 or IPv6 address');
  assert.equal(canonicalAddress('198.18.0.0/24'), '"198.18.0.0/24" must be a single address without a prefix length');
});
