// The restore parser's shortcuts for common lines (plain words, "a.b.c.d:port", plain digits)
// give exactly what the general code gives, on random input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCommonLine, parseRestoreWords, splitQuotedWords, splitWords } from '../../../src/ipvs/restore';
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

test('a line of the shapes ipvsadm -S writes: the whole-line match gives what the word-by-word reader gives', () => {
  const endpoint = fc.oneof(
    chars('0123456789.:', 22),
    fc.tuple(fc.nat(260), fc.nat(260), fc.nat(3), fc.nat(260), fc.option(fc.nat(70000))).map(([a, b, c, d, port]) => `${a}.${b}.${c}.${d}${port === null ? '' : `:${port}`}`),
  );
  const line = fc.oneof(
    fc.tuple(fc.constantFrom('-A', '-a', '-E'), fc.constantFrom('t', 'u', 'f'), endpoint, fc.constantFrom('wrr', 'rr', 'sh', 'x', 'WRR', '0', 'toolongschedulername')).map(
      ([cmd, f, e, sched]) => `${cmd} -${f} ${e} -s ${sched}`,
    ),
    fc.tuple(fc.constantFrom('-a', '-A', '-e'), fc.constantFrom('t', 'u'), endpoint, endpoint, fc.constantFrom('g', 'i', 'm', 'x'), chars('0123456789', 7), fc.constantFrom('', ' ', ' -x 3', '\r')).map(
      ([cmd, f, e, r, fwd, w, tail]) => `${cmd} -${f} ${e} -r ${r} -${fwd} -w ${w}${tail}`,
    ),
  );
  let used = 0;
  fc.assert(
    fc.property(line, (text) => {
      const general = outcome(() => parseRestoreWords(splitWords(text)));
      const common = outcome(() => parseCommonLine(text));
      if ((common as { ok?: unknown }).ok === undefined && !('error' in (common as object))) return; // not a common shape
      used++;
      assert.deepEqual(common, general, text);
    }),
    { numRuns: 30000 },
  );
  assert.ok(used > 2000, `the whole-line match applied to ${used} lines`);
});
