// YAML read with positions kept, so every problem can name file:line:column of the node at fault.
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { Locator, Path } from './validate';

export interface YamlSource {
  /** the document as plain data (aliases resolved); undefined for an empty file */
  data: unknown;
  /** YAML syntax problems, already formatted as "file:line:column: message" */
  syntaxErrors: string[];
  /** places in the file by key path */
  locator: Locator;
}

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
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
