// The restore parser's shortcuts for common lines (plain words, "a.b.c.d:port", plain digits)
// give exactly what the general code gives, on random input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCommonLine, parseRestore, parseRestoreWords, RestoreError, splitQuotedWords, splitWords, type RestoreLine } from '../../../src/ipvs/restore';
import { parseAnyEndpoint, parseEndpoint, parseIPv4Endpoint, parseInteger } from '../../../src/ipvs/command';
import { InputError } from '../../../src/errors';

const chars = (alphabet: string, maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet.split('')), { maxLength }).map((a) => a.join(''));

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    return { error: err.message };
  }
}

test('splitting a line: the plain-word shortcut agrees with the general splitter', () => {
  fc.assert(
    fc.property(chars(' \t\r-aAt0189.:#"\'\\é\u00a0', 40), (line) => {
      assert.deepEqual(outcome(() => splitWords(line)), outcome(() => splitQuotedWords(line)));
    }),
    { numRuns: 20000 },
  );
});

test('an endpoint: the IPv4 shortcut, when it applies, gives what the general parser gives', () => {
  const v4ish = fc.oneof(
    chars('0123456789.:', 24),
    fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.option(chars('0123456789', 7)), fc.boolean()).map(
      ([a, b, c, d, port, lead]) => `${lead ? '0' : ''}${a}.${b}.${c}.${d}${port === null ? '' : `:${port}`}`,
    ),
  );
  let used = 0;
  fc.assert(
    fc.property(v4ish, fc.constantFrom('tcp', 'udp', undefined), (text, protocol) => {
      const fast = parseIPv4Endpoint(text);
      const general = outcome(() => parseAnyEndpoint('-t', text, protocol as 'tcp' | 'udp' | undefined));
      if (fast) {
        used++;
        assert.deepEqual({ ok: fast }, general, text);
      }
      // and the entry point (with its one-entry memory) agrees with the general parser, twice
      assert.deepEqual(outcome(() => parseEndpoint('-t', text, protocol as 'tcp' | undefined)), general);
      assert.deepEqual(outcome(() => parseEndpoint('-t', text, protocol as 'tcp' | undefined)), general);
    }),
    { numRuns: 20000 },
  );
  assert.ok(used > 1000, `the shortcut applied to ${used} inputs`);
});

test('an integer: plain digits take a shortcut with the same result and the same range errors', () => {
  // ipvsadm's string_to_number as the general path has it
  const reference = (text: string, min: number, max: number) => {
    if (!/^[+-]?[0-9]+$/.test(text.trim()) || text.trim() !== text) throw new InputError(`-w: '${text}' is not a number`);
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InputError(`-w: ${text} is out of range ${min}..${max}`);
    return n;
  };
  fc.assert(
    fc.property(chars('0123456789+- ', 18), fc.constantFrom([0, 65535], [1, 128], [-0x80000000, 0xffffffff]), (text, [min, max]) => {
      assert.deepEqual(outcome(() => parseInteger('-w', text, min, max)), outcome(() => reference(text, min, max)));
    }),
    { numRuns: 20000 },
  );
});

// A command as an outcome to compare: its fields, their order and which keys are frozen.
function described(f: () => unknown): unknown {
  const o = outcome(f) as { ok?: unknown };
  if (o.ok === undefined) return o;
  const frozen: boolean[] = [];
  JSON.stringify(o.ok, (_, v: unknown) => {
    if (v && typeof v === 'object' && 'family' in v) frozen.push(Object.isFrozen(v));
    return v;
  });
  return { ...o, json: JSON.stringify(o.ok), frozen };
}

// Lines near the shapes ipvsadm -S writes: mostly valid, some off by one character or value.
const near = <T>(usual: T, ...others: T[]) => fc.oneof({ weight: 12, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
const octet = fc.oneof({ weight: 12, arbitrary: fc.nat(255).map(String) }, { weight: 1, arbitrary: fc.constantFrom('0', '00', '01', '255', '256', '999', '1000', '') });
const address = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(octet, octet, octet, octet).map((p) => p.join('.')) },
  { weight: 1, arbitrary: fc.constantFrom('198.18.0', '198.18.0.1.2', '2001:db8::1', '[2001:db8::1]', 'host', '198.18.0.1x') },
);
const port = fc.oneof({ weight: 6, arbitrary: fc.nat(65535).map((n) => `:${n}`) }, { weight: 1, arbitrary: fc.constantFrom('', ':', ':0', ':00080', ':65536', ':123456', ':http', ':80:80', ':-1') });
const endpoint = fc.tuple(address, port).map(([a, p]) => a + p);
const number = fc.oneof({ weight: 6, arbitrary: fc.nat(70000).map(String) }, { weight: 1, arbitrary: fc.constantFrom('', '0', '00', '000001', '65535', '65536', '999999', '-1', '+1', '1e3') });
const sched = near('wrr', 'rr', 'sh', 'WRR', 'lblc_r', 'a-b', '', 'x'.repeat(15), 'x'.repeat(16), 'wr.r', 'é');
const gap = near(' ', '  ', '\t', ' \t');
const tail = near('', ' ', '\r', ' -x 3', ' -p', ' # c', '#', ' extra');
const serviceLine = fc
  .tuple(near('-A', '-E', '-a', '-D', '--add-service', 'ipvsadm -A', '-At'), gap, near('-t', '-u', '-f', '--tcp-service', '-6'), endpoint, gap, near('-s', '-p', '-S', '--scheduler'), sched, tail)
  .map(([cmd, g, f, e, g2, s, name, t]) => `${cmd}${g}${f} ${e}${g2}${s} ${name}${t}`);
const serverLine = fc
  .tuple(near('-a', '-e', '-A', '-d'), near('-t', '-u', '-f'), endpoint, gap, near('-r', '-R', '--real-server'), endpoint, near('-g', '-i', '-m', '-x', '-gm', '-G'), gap, near('-w', '-x', '-W'), number, tail)
  .map(([cmd, f, e, g, r, re, fwd, g2, w, n, t]) => `${cmd} ${f} ${e}${g}${r} ${re} ${fwd}${g2}${w} ${n}${t}`);
const nearLine = fc.oneof(serviceLine, serverLine);

test('a line near the shapes ipvsadm -S writes: the scanner gives what the word-by-word reader gives, or leaves it to it', () => {
  let used = 0;
  let valid = 0;
  fc.assert(
    fc.property(nearLine, (text) => {
      const general = described(() => parseRestoreWords(splitWords(text)));
      if ('ok' in (general as object)) valid++;
      const common = parseCommonLine(text);
      if (common === undefined) return; // left to the general reader
      used++;
      assert.deepEqual(described(() => common), general, text);
    }),
    { numRuns: 30000 },
  );
  assert.ok(used > 5000, `the scanner read ${used} lines`);
  assert.ok(valid - used < valid / 2, `the scanner read ${used} of ${valid} valid lines`);
});

// The general path line by line, as parseRestore did with text.split('\n').
function referenceRestore(text: string) {
  const out: RestoreLine[] = [];
  const problems: { line: number; message: string }[] = [];
  text.split('\n').forEach((line, i) => {
    try {
      const words = splitWords(line);
      if (words.length > 0) out.push({ line: i + 1, command: parseRestoreWords(words) });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push({ line: i + 1, message: err.message });
    }
  });
  if (problems.length > 0) throw new RestoreError(problems);
  return out;
}

function restoreOutcome(f: () => RestoreLine[]): unknown {
  try {
    const lines = f();
    return { ok: lines, json: JSON.stringify(lines), frozen: lines.map((l) => 'service' in l.command && Object.isFrozen(l.command.service)) };
  } catch (err) {
    assert.ok(err instanceof RestoreError, String(err));
    return { message: err.message, problems: err.problems };
  }
}

test('a whole input: parseRestore gives the line-by-line general reading, its lines and its errors', () => {
  // runs of lines on one service (the scanner remembers the last one), other lines between
  const other = fc.constantFrom('', '# comment', '-C', '-Z', '\r', '   ', '-A -t [2001:db8::1]:80 -s rr', '-a -f 7 -r 198.19.0.1 -g -w 1', '--set 1 2 3', '-Q');
  // services that start alike, so that remembering the last one is put to the test
  const alike = fc.constantFrom('198.18.0.1:80', '198.18.0.1:8080', '198.18.0.10:80', '198.18.0.1:800', '198.18.0.1', '198.18.0.1:80x');
  const run = fc.tuple(fc.oneof(endpoint, alike), fc.constantFrom('t', 'u'), fc.array(fc.tuple(endpoint, fc.constantFrom('g', 'i', 'm'), number), { maxLength: 4 }), sched).map(([e, p, servers, s]) =>
    [`-A -${p} ${e} -s ${s}`, ...servers.map(([r, f, w]) => `-a -${p} ${e} -r ${r} -${f} -w ${w}`)].join('\n'),
  );
  const input = fc.array(fc.oneof({ weight: 3, arbitrary: run }, { weight: 1, arbitrary: nearLine }, { weight: 1, arbitrary: other }), { maxLength: 8 }).map((parts) => parts.join('\n'));
  fc.assert(
    fc.property(input, fc.constantFrom('', '\n', '\n\n'), (text, end) => {
      assert.deepEqual(restoreOutcome(() => parseRestore(text + end)), restoreOutcome(() => referenceRestore(text + end)), text + end);
    }),
    { numRuns: 5000 },
  );
});
