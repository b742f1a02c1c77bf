// YAML read with positions kept, so every problem can name file:line:column of the node at fault.
// A valid file needs no positions: readYamlData reads it several times faster (js-yaml, no node
// tree), and a caller goes to parseYaml, the full read, only when there is a problem to place.
import { FAILSAFE_SCHEMA, Type as ScalarType, load as loadPlain } from 'js-yaml';
import type { Document, Node } from 'yaml';
import type { Locator, Path } from './validate';

export interface YamlSource {
  /** the document as plain data (aliases resolved); undefined for an empty file */
  data: unknown;
  /** YAML syntax problems, already formatted as "file:line:column: message" */
  syntaxErrors: string[];
  /** places in the file by key path */
  locator: Locator;
}

// The full read's package is loaded when a file needs it: a valid config never does (34 ms of a
// start on the host, about half a second under the lab's emulation).
const yamlLib = () => require('yaml') as typeof import('yaml');

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new (yamlLib().LineCounter)();
  const doc = yamlLib().parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const place = (offset: number): string => {
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const syntaxErrors = doc.errors.map((err) => `${place(err.pos[0])}: ${err.message.split('\n')[0]}`);
  const data = syntaxErrors.length ? undefined : doc.toJS({ maxAliasCount: 1000 });
  const locator: Locator = {
    describe(path, message, options) {
      const offset = offsetOf(doc, path, options?.key === true);
      const where = path.length ? `${formatPath(path)}: ` : '';
      return { text: `${place(offset)}: ${where}${message}`, offset };
    },
  };
  return { data, syntaxErrors, locator };
}

/** "services[0].servers[2].weight" */
export function formatPath(path: Path): string {
  let text = '';
  for (const seg of path) {
    if (typeof seg === 'number') text += `[${seg}]`;
    else text += text === '' ? seg : `.${seg}`;
  }
  return text;
}

/**
 * Where the node at `path` starts (its key when `key` is set, for unknown keys); a path that is
 * not in the file (a default) falls back to its nearest ancestor that is.
 */
function offsetOf(doc: Document, path: Path, key: boolean): number {
  const { isMap, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return offset;
      if (last && key) return rangeStart(pair.key) ?? offset;
      node = pair.value;
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}

// The YAML 1.2 core schema exactly as the \`yaml\` package resolves plain scalars (js-yaml's own
// also takes 0b binary, signed hex and octal): the same text gives the same data either way.
const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_INT = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;
const CORE_FLOAT = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    new ScalarType('tag:yaml.org,2002:null', { kind: 'scalar', resolve: (s: string) => CORE_NULL.test(s), construct: () => null }),
    new ScalarType('tag:yaml.org,2002:bool', { kind: 'scalar', resolve: (s: string) => CORE_BOOL.test(s), construct: (s: string) => s[0] === 't' || s[0] === 'T' }),
    new ScalarType('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: string) => CORE_INT.test(s),
      construct: (s: string) => (s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
    }),
    new ScalarType('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: string) => CORE_FLOAT.test(s),
      construct: (s: string) => (/^\.nan$/i.test(s) ? NaN : /inf$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : parseFloat(s)),
    }),
  ],
});

// What only the full read handles the same way: anchors and aliases (it bounds their expansion),
// tags, directives (%YAML 1.1 changes the schema), and an empty sequence entry ("- -", or "-" at
// the end of a line: js-yaml puts the next entry of the outer list into a nested one). A match may
// be inside a string or a comment on that line (ignored), or in a string that runs over lines
// (that file just takes the full read).
const FULL_READ_ONLY = /(?:^|[\s[\]{},])(?:[&*][^\s[\]{},]|!)|^%|(?:^|\s)-[ \t]*(?:#.*)?$/gm;

function needsFullRead(text: string): boolean {
  FULL_READ_ONLY.lastIndex = 0;
  for (let m = FULL_READ_ONLY.exec(text); m; m = FULL_READ_ONLY.exec(text)) {
    if (!quotedOrComment(text, text.lastIndexOf('\n', m.index) + 1, m.index + 1)) return true;
  }
  return false;
}

/** Whether `at` sits in a quoted string or a comment that starts on its line (from `start`). */
function quotedOrComment(text: string, start: number, at: number): boolean {
  let quote = '';
  for (let i = start; i < at; i++) {
    const c = text[i];
    const nodeStart = i === start || ' \t[{,:-?'.includes(text[i - 1]);
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = '';
    } else if (quote === "'") {
      if (c === "'" && text[i + 1] === "'") i++; // '' is a quote inside
      else if (c === "'") quote = '';
    } else if ((c === '"' || c === "'") && nodeStart) quote = c;
    else if (c === '#' && (i === start || text[i - 1] === ' ' || text[i - 1] === '\t')) return true;
  }
  return quote !== '';
}

/**
 * The document as plain data, without positions; undefined when this file needs the full read
 * (parseYaml): a syntax error, a duplicate key, or anything FULL_READ_ONLY names.
 */
export function readYamlData(text: string): { data: unknown } | undefined {
  if (needsFullRead(text)) return undefined;
  try {
    const data = loadPlain(text, { schema: CORE_SCHEMA });
    return { data: data === undefined ? null : data }; // an empty file, as parseYaml has it
  } catch {
    return undefined;
  }
}
