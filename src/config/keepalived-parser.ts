// keepalived.conf syntax: blocks, keywords, include with globs, # and ! comments, quoted strings.
// Every statement keeps its file:line, so the import can name the line each part came from.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { InputError } from '../errors';

export interface KaStatement {
  keyword: string;
  args: string[];
  file: string;
  line: number;
  /** the statements of its { } block; undefined when it has none */
  block?: KaStatement[];
}

/** Bad keepalived.conf syntax, with its file:line. */
export class KeepalivedSyntaxError extends InputError {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`);
  }
}

interface SourceLine {
  text: string;
  file: string;
  line: number;
}

const INCLUDE_KEYWORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const MAX_INCLUDE_DEPTH = 16;
const MAX_INCLUDED_FILES = 1000;

/** Reads FILE (and its includes) into statements; throws KeepalivedSyntaxError naming file:line. */
export function parseKeepalivedFile(path: string): KaStatement[] {
  const lines: SourceLine[] = [];
  readLines(path, undefined, 0, lines, { files: 0 });
  return parseLines(lines);
}

/** Parses keepalived.conf text; `path` names it in errors and is where relative includes start. */
export function parseKeepalived(text: string, path: string): KaStatement[] {
  const lines: SourceLine[] = [];
  splitLines(text, path, 0, lines, { files: 0 });
  return parseLines(lines);
}

function readLines(path: string, from: string | undefined, depth: number, out: SourceLine[], count: { files: number }): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new KeepalivedSyntaxError(from ?? path, `cannot read ${path}: ${why}`);
  }
  if (++count.files > MAX_INCLUDED_FILES) throw new KeepalivedSyntaxError(from ?? path, `more than ${MAX_INCLUDED_FILES} files included`);
  splitLines(text, path, depth, out, count);
}

function splitLines(text: string, file: string, depth: number, out: SourceLine[], count: { files: number }): void {
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    const lineNo = i + 1;
    // a trailing backslash continues the line
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    const tokens = tokenize(line, `${file}:${lineNo}`);
    if (tokens.length && INCLUDE_KEYWORDS.has(tokens[0].text)) {
      const where = `${file}:${lineNo}`;
      if (tokens.length !== 2) throw new KeepalivedSyntaxError(where, `${tokens[0].text} takes one file name (a glob)`);
      if (depth >= MAX_INCLUDE_DEPTH) throw new KeepalivedSyntaxError(where, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`);
      const pattern = isAbsolute(tokens[1].text) ? tokens[1].text : join(dirname(file), tokens[1].text);
      for (const f of expandGlob(pattern)) readLines(f, where, depth + 1, out, count);
      continue;
    }
    out.push({ text: line, file, line: lineNo });
  }
}

interface Token {
  text: string;
  quoted: boolean;
}

/** Words of one line: "quoted strings" are one word, { and } are words of their own, # and ! start a comment. */
function tokenize(line: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#' || c === '!') {
      break;
    } else if (c === '{' || c === '}') {
      tokens.push({ text: c, quoted: false });
      i++;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new KeepalivedSyntaxError(where, 'unterminated quoted string');
      tokens.push({ text: line.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t{}"'.includes(line[j]) && !(j > i && (line[j] === '#' || line[j] === '!') && /[ \t]/.test(line[j - 1]))) j++;
      tokens.push({ text: line.slice(i, j), quoted: false });
      i = j;
    }
  }
  return tokens;
}

function parseLines(lines: SourceLine[]): KaStatement[] {
  const root: KaStatement[] = [];
  const stack: { list: KaStatement[]; opener?: KaStatement }[] = [{ list: root }];
  let last: KaStatement | undefined; // the statement a `{` on a line of its own opens
  for (const l of lines) {
    const where = `${l.file}:${l.line}`;
    const tokens = tokenize(l.text, where);
    let current: KaStatement | undefined;
    for (const t of tokens) {
      const top = stack[stack.length - 1];
      if (!t.quoted && t.text === '{') {
        const opener = current ?? last;
        if (!opener || opener.block) throw new KeepalivedSyntaxError(where, '"{" without a keyword before it');
        opener.block = [];
        stack.push({ list: opener.block, opener });
        current = undefined;
        last = undefined;
      } else if (!t.quoted && t.text === '}') {
        if (stack.length === 1) throw new KeepalivedSyntaxError(where, '"}" without a block to close');
        stack.pop();
        current = undefined;
        last = undefined;
      } else if (current) {
        current.args.push(t.text);
      } else {
        if (!t.quoted && (t.text.startsWith('$') || t.text.startsWith('@'))) {
          throw new KeepalivedSyntaxError(where, `${t.text}: parameter substitution and conditional lines (@, $) are not supported; expand them first (keepalived -t -f FILE does not, so edit them out)`);
        }
        current = { keyword: t.text, args: [], file: l.file, line: l.line };
        top.list.push(current);
      }
    }
    if (current) last = current;
    else if (tokens.length) last = undefined;
  }
  if (stack.length > 1) {
    const opener = stack[stack.length - 1].opener!;
    throw new KeepalivedSyntaxError(`${opener.file}:${opener.line}`, `${opener.keyword}: block not closed (missing "}")`);
  }
  return root;
}

/** Files matching a glob (* ? [..] and {a,b} in any component), sorted as glob(3) does. */
function expandGlob(pattern: string): string[] {
  const out = new Set<string>();
  const alternatives = expandBraces(pattern);
  for (const p of alternatives) {
    if (!/[*?[]/.test(p)) {
      // one plain name must exist (refused at the include line); of {a,b} only those that exist
      if (alternatives.length === 1 || existsSync(p)) out.add(p);
      continue;
    }
    const parts = p.split('/');
    let bases = [parts[0] === '' ? '/' : parts[0]];
    for (const part of parts.slice(1)) {
      if (part === '') continue;
      const next: string[] = [];
      for (const base of bases) {
        if (!/[*?[]/.test(part)) {
          next.push(join(base, part));
          continue;
        }
        const re = globRegExp(part);
        let names: string[] = [];
        try {
          names = readdirSync(base).sort();
        } catch {
          continue;
        }
        for (const n of names) if (re.test(n) && (part.startsWith('.') || !n.startsWith('.'))) next.push(join(base, n));
      }
      bases = next;
    }
    for (const b of bases) {
      try {
        if (statSync(b).isFile()) out.add(b);
      } catch {
        // no match: keepalived's include skips it too
      }
    }
  }
  return [...out];
}

function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  return m[1].split(',').flatMap((alt) => expandBraces(pattern.slice(0, m.index) + alt + pattern.slice(m.index + m[0].length)));
}

function globRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = part.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$(){}|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
