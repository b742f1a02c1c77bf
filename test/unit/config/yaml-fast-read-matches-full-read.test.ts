// A valid config is read without positions (readYamlData, js-yaml with the YAML 1.2 core schema)
// and must give exactly the data the full read with positions (parseYaml, the yaml package) gives;
// what only the full read handles the same way must be sent to it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseYaml, readYamlData } from '../../../src/config/yaml';

const ROOT = join(__dirname, '..', '..', '..', '..', 'config');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith('.yaml') ? [p] : [];
  });
}

function same(text: string, what: string): void {
  const fast = readYamlData(text);
  assert.ok(fast, `${what}: not read by the fast path`);
  const full = parseYaml(text, 'x.yaml');
  assert.deepEqual(full.syntaxErrors, [], what);
  assert.deepEqual(fast.data, full.data, what);
}

test('every shipped config reads to the same data both ways', () => {
  const files = yamlFiles(ROOT);
  assert.ok(files.length >= 10, `found ${files.length} configs under ${ROOT}`);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (readYamlData(text) === undefined) continue; // e.g. a cron schedule with */5: the full read
    same(text, f);
  }
});

test('plain scalars resolve as the YAML 1.2 core schema says, the same both ways', () => {
  const scalars = [
    '0', '12', '+12', '-12', '007', '0o17', '0x1F', '0xff', '-0x1F', '+0o17', '0b101', '1_000', '1,000',
    '1.5', '-1.5', '.5', '1.', '1e3', '1.5E-3', '-.5e+2', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', 'nan', 'inf',
    'true', 'True', 'TRUE', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'tRue',
    '~', 'null', 'Null', 'NULL', 'nUll', '', '2001-12-14', '12:30', '1:20:30', '198.18.0.1', '2001:db8::1',
    '10s', '1m30s', 'a b', 'sh-fallback', '=', '-x', 'x-', '0.0.0.0:8080',
  ];
  same(`v:\n${scalars.filter((s) => s !== '').map((s) => `  - ${s}`).join('\n')}\nm: {${scalars.filter((s) => s !== '' && !s.includes(',')).map((s, i) => `k${i}: ${s}`).join(', ')}}\n`, 'scalars');
  same(`v:\n${scalars.map((s, i) => `  k${i}: ${s}`).join('\n')}\n`, 'block map values');
  same(`v: [${scalars.map((s) => JSON.stringify(s)).join(', ')}]\nw: [${scalars.map((s) => `'${s}'`).join(', ')}]\n`, 'quoted');
});

test('strings, block scalars, nesting, comments and keys read the same both ways', () => {
  same(
    [
      '# a comment',
      '---',
      'a: "tab\\there \\u00e9 \\x41"',
      "b: 'it''s'",
      'c: |',
      '  line 1',
      '   line 2',
      'd: >-',
      '  folded',
      '  text',
      '',
      '  more',
      'e: |+',
      '  keep',
      '',
      'f: plain text # trailing comment',
      'g:',
      '  - [1, [2, 3], {x: y}]',
      '  - {a: 1, b: [c, d]}',
      '  - - nested',
      '    - list',
      '1: number key',
      'true: bool key',
      'h:',
      'i: "multi',
      '  line"',
      'j: long plain',
      '  continued',
      '...',
    ].join('\n'),
    'document',
  );
  same('', 'empty file');
  same('# only a comment\n', 'comment only');
  same('a: 1 # bind *:80, &x, !tag, - -\n# *.* and -\nb: "# not a comment"\n', 'anchors, aliases and tags in comments');
  same('resync: "*/5 * * * *"\nb: \'*x !y\'\nc: "a \\" *x"\nd: [\'it\'\'s *x\', "*y"]\n', 'anchors, aliases and tags in quoted strings');
});

test('anchors, aliases, tags, directives, empty nested entries, duplicate keys and syntax errors go to the full read', () => {
  for (const text of [
    'a: &x 1\nb: *x\n',
    'a: !!str 1\n',
    'a: !custom 1\n',
    '%YAML 1.1\n---\na: yes\n',
    'a: 1\na: 2\n',
    'a: [1, 2\n',
    'a: "x\n',
    '- a\nb: c\n',
    'a: 1\n---\nb: 2\n',
    // js-yaml would put "b" in the nested list
    'v:\n  - -\n  - b\n',
    'v:\n  - -  # c\n  - b\n',
    'v:\n  - - a\n    -\n  - b\n',
    "a: '# x' &y 1\nb: *y\n",
    'a: "x #" # y\nb: &z 2\nc: *z\n',
    'a: ["it\'s", *x]\n',
    'a: [5", *x]\n',
    'a: "x\n  y" *z\n',
  ]) {
    assert.equal(readYamlData(text), undefined, JSON.stringify(text));
  }
});
