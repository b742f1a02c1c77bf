// What the keepalived.conf import writes with: the YAML document, the lines it names
// (`file:line: keyword: why`) and the readers of keepalived's values that name a bad one.
import { Document, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import type { KaStatement } from './keepalived-parser';
import { canonicalAddress } from './validate';

/** One line that was not translated (or not exactly): `file:line: keyword: why`. */
export interface ImportProblem {
  file: string;
  line: number;
  keyword: string;
  why: string;
}

export function formatImportProblem(p: ImportProblem): string {
  return `${p.file}:${p.line}: ${p.keyword}: ${p.why}`;
}

/** A value read from a line, with the line (to name it in a comment). */
export interface Num {
  value: number;
  at: KaStatement;
}

/** Seconds as a duration: "1s", "1500ms". */
export function duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** "not a KIND keyword keepalived knows", with the known keyword it most likely meant. */
export function unknown(kind: string, word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3; // more than 2 edits away is not a typo
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return `not a ${kind} keepalived knows (${best ? `did you mean ${best}?` : 'mistyped?'})`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The YAML document and the problem list one import shares between its parts. */
export class ImportWriter {
  constructor(
    protected readonly doc: Document,
    protected readonly problems: ImportProblem[],
  ) {}

  protected where(s: KaStatement): string {
    return `${s.file}:${s.line} ${[s.keyword, ...s.args].join(' ')}`;
  }

  protected skip(s: KaStatement, why: string): void {
    this.problems.push({ file: s.file, line: s.line, keyword: s.keyword, why });
  }

  protected map(value: Record<string, unknown>): YAMLMap {
    return this.doc.createNode(value) as YAMLMap;
  }

  /** map[key] = value, with a comment naming the line it came from. */
  protected put(map: YAMLMap, key: string, value: unknown, from?: KaStatement): void {
    const node = (value instanceof YAMLMap || value instanceof YAMLSeq ? value : this.doc.createNode(value)) as YamlNode;
    if (from) {
      if (node instanceof YAMLMap || node instanceof YAMLSeq) node.commentBefore = ` ${this.where(from)}`;
      else node.comment = ` ${this.where(from)}`;
    }
    map.set(key, node);
  }

  protected int(s: KaStatement, index = 0, min = 0, max = 2 ** 32 - 1): number | undefined {
    const text = s.args[index];
    if (text === undefined || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a whole number in ${min}..${max}`);
      return undefined;
    }
    return Number(text);
  }

  /** keepalived TIMER: seconds, fractions allowed. */
  protected seconds(s: KaStatement): Num | undefined {
    const text = s.args[0];
    if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a number of seconds`);
      return undefined;
    }
    return { value: Number(text), at: s };
  }

  protected bool(s: KaStatement): boolean {
    const v = (s.args[0] ?? 'yes').toLowerCase();
    return !['no', 'false', 'off', '0'].includes(v);
  }

  protected address(text: string | undefined, s: KaStatement): { address: string; family: 'inet' | 'inet6' } | undefined {
    const a = text === undefined ? 'needs an address' : canonicalAddress(text);
    if (typeof a === 'string') {
      this.skip(s, a);
      return undefined;
    }
    return a;
  }

  /** A whole number that may be negative (weights). */
  protected signedInt(s: KaStatement, index: number, min: number, max: number): number | undefined {
    const text = s.args[index];
    if (text === undefined || !/^[-+]?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a whole number in ${min}..${max}`);
      return undefined;
    }
    return Number(text);
  }

  /** map[key] = value with a comment: the line it came from, or why it is keepalived's default. */
  protected putDefault(map: YAMLMap, key: string, value: unknown, from: KaStatement | undefined, why: string): void {
    if (from) return this.put(map, key, value, from);
    const n = this.doc.createNode(value);
    n.comment = ` ${why}`;
    map.set(key, n);
  }
}
