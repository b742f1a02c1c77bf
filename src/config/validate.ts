// The one validation module: a schema declared once with TypeBox gives the TypeScript type, the
// JSON Schema (shipped for editors), the defaults and the checks (ajv). Every problem is reported
// at once and names its place: file:line:column and the key's path for YAML, the flag for a CLI.
// What a schema cannot say (address family, duplicates, file modes, cron syntax) is checked by
// the callers with the helpers here, and reported the same way.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { type Static, type TSchema } from '@sinclair/typebox';
import type Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { validate as validateCron } from 'node-cron';
import { ConfigError } from '../errors';

/** A key path into the data: ['services', 0, 'servers', 2, 'weight']. */
export type Path = readonly (string | number)[];

/** Turns a path and a message into one problem line that names the place. */
export interface Locator {
  /**
   * The problem in words with its place, and where it sits (problems are listed in that order).
   * `key`: point at the key rather than its value (unknown keys).
   */
  describe(path: Path, message: string, options?: { key?: boolean }): { text: string; offset: number };
}

/** Collects every problem, each already naming its place. */
export class Problems {
  private readonly found: { text: string; offset: number }[] = [];
  constructor(readonly locator: Locator) {}

  add(path: Path, message: string, options?: { key?: boolean }): void {
    const problem = this.locator.describe(path, message, options);
    if (!this.found.some((p) => p.text === problem.text)) this.found.push(problem);
  }

  /** In the order they appear in the file (stable for equal places). */
  get list(): string[] {
    return [...this.found].sort((a, b) => a.offset - b.offset).map((p) => p.text);
  }

  /** Throws one ConfigError carrying them all, if there are any. */
  throwIfAny(): void {
    if (this.list.length) throw new ConfigError(this.list);
  }
}

/** ajv as every schema here is compiled, at run time or at build time (`source`: for standalone code). */
export function newAjv(options: { coerceTypes?: boolean; source?: boolean } = {}): Ajv {
  // loaded here, not at the top: a director with its prebuilt validator never compiles (ajv
  // took 60 ms of a start on the host, about 0.9 s under the lab's emulation)
  const AjvClass = (require('ajv') as typeof import('ajv')).default;
  const ajv = new AjvClass({
    coerceTypes: options.coerceTypes === true,
    allErrors: true, // every problem at once
    useDefaults: true, // defaults declared in the schema are written into the data
    verbose: true, // errors carry their schema, for bounds and enum lists in the messages
    discriminator: true, // a check's `type` picks its branch, so errors come from that branch only
    allowUnionTypes: true, // durations are a string or a number
    strict: true,
    code: { source: options.source === true },
  });
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' }); // annotation, read below
  return ajv;
}

/** Names the JSON Schema a prebuilt validator was generated from, so a stale one is never used. */
export function schemaHash(json: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('hex');
}

/** A compiled schema: checks data in place (applying defaults) and reports into Problems. */
export class SchemaValidator<T extends TSchema> {
  private readonly check: ValidateFunction;
  /** true when the check came from a prebuilt module rather than compiling here */
  readonly prebuilt: boolean;
  /**
   * `coerceTypes`: command-line flags arrive as strings ("4096" for an integer).
   * `prebuilt`: a module written at build time by scripts/build-validators.js (ajv's standalone
   * code, the same compile ahead of time): a director starts without ajv's compile, 0.3 s here
   * and seconds under emulation. Used only when it was generated from this very schema.
   */
  constructor(readonly schema: T, options: { coerceTypes?: boolean; prebuilt?: () => unknown } = {}) {
    const json = toJsonSchema(schema);
    const ready = options.prebuilt && !options.coerceTypes ? loadPrebuilt(options.prebuilt, schemaHash(json)) : undefined;
    this.prebuilt = ready !== undefined;
    this.check = ready ?? newAjv(options).compile(json);
  }

  /** True when `data` fits; defaults are applied to it in place either way. */
  validate(data: unknown, problems: Problems): data is Static<T> {
    if (this.check(data)) return true;
    for (const err of this.check.errors ?? []) report(err, problems);
    return false;
  }
}

function loadPrebuilt(load: () => unknown, hash: string): ValidateFunction | undefined {
  let mod: unknown;
  try {
    mod = load();
  } catch {
    return undefined; // not built (tsc alone): compile here
  }
  return typeof mod === 'function' && (mod as { schemaHash?: unknown }).schemaHash === hash ? (mod as ValidateFunction) : undefined;
}

/**
 * The declaration as plain JSON Schema, what ajv checks and what editors get: a key with a default
 * is not required (the default fills it in), so the TypeScript type can still say it is present.
 */
export function toJsonSchema(schema: TSchema): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const props = o.properties as Record<string, { default?: unknown }> | undefined;
    if (props && Array.isArray(o.required)) {
      o.required = (o.required as string[]).filter((k) => props[k]?.default === undefined);
      if ((o.required as string[]).length === 0) delete o.required;
    }
    Object.values(o).forEach(visit);
  };
  visit(plain);
  return plain;
}

function report(err: ErrorObject, problems: Problems): void {
  const path = pointerToPath(err.instancePath);
  const p = err.params as Record<string, unknown>;
  const schema = err.parentSchema as Record<string, unknown> | undefined;
  const custom = typeof schema?.errorMessage === 'string' ? schema.errorMessage : undefined;
  switch (err.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((schema?.properties as object | undefined) ?? {});
      return problems.add([...path, String(p.additionalProperty)], `unknown key${known.length ? ` (known: ${known.join(', ')})` : ''}`, { key: true });
    }
    case 'required':
      return problems.add(path, `missing required key "${String(p.missingProperty)}"`);
    case 'type':
      return problems.add(path, `${custom ?? `must be ${article(String(p.type))}`}, got ${describeValue(err.data)}`);
    case 'enum':
      return problems.add(path, `must be one of ${(p.allowedValues as unknown[]).join(', ')}, got ${describeValue(err.data)}`);
    case 'const':
      return problems.add(path, `must be ${JSON.stringify(p.allowedValue)}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return problems.add(path, custom ? `${custom}, got ${describeValue(err.data)}` : `${describeValue(err.data)} is out of range (${rangeText(schema)})`);
    case 'multipleOf':
      return problems.add(path, `${describeValue(err.data)} must be a whole number`);
    case 'minLength':
      return problems.add(path, custom ?? (p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`));
    case 'maxLength':
      return problems.add(path, custom ?? `must be at most ${String(p.limit)} characters long`);
    case 'pattern':
      return problems.add(path, `${custom ?? `must match ${String(p.pattern)}`}, got ${describeValue(err.data)}`);
    case 'minItems':
      return problems.add(path, p.limit === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} items`);
    case 'maxItems':
      return problems.add(path, `must have at most ${String(p.limit)} items`);
    case 'uniqueItems':
      return problems.add(path, `items ${String(p.j)} and ${String(p.i)} are the same`);
    case 'discriminator': {
      const branches = (schema?.oneOf as { properties: Record<string, { const: unknown }> }[] | undefined) ?? [];
      const tag = String(p.tag);
      const values = branches.map((b) => String(b.properties[tag]?.const)).join(', ');
      if (p.error === 'tag' && p.tagValue === undefined) return problems.add(path, `missing "${tag}" (one of ${values})`);
      return problems.add([...path, tag], `must be one of ${values}, got ${describeValue(p.tagValue)}`);
    }
    case 'anyOf':
    case 'oneOf':
      return problems.add(path, custom ?? 'does not match any allowed form');
    default:
      return problems.add(path, custom ? `${custom}, got ${describeValue(err.data)}` : (err.message ?? `fails ${err.keyword}`));
  }
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

function article(type: string): string {
  const words: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'true or false',
    null: 'empty',
    'string,number': 'a string or a number',
    'number,string': 'a number or a string',
    'string,boolean': 'a string or false',
    'boolean,string': 'false or a string',
  };
  return words[type] ?? type;
}

function rangeText(schema: Record<string, unknown> | undefined): string {
  const lo = schema?.minimum ?? (schema?.exclusiveMinimum !== undefined ? `>${String(schema.exclusiveMinimum)}` : undefined);
  const hi = schema?.maximum ?? (schema?.exclusiveMaximum !== undefined ? `<${String(schema.exclusiveMaximum)}` : undefined);
  if (lo !== undefined && hi !== undefined) return `${String(lo)}..${String(hi)}`;
  if (lo !== undefined) return `at least ${String(lo)}`.replace('at least >', 'above ');
  return `at most ${String(hi)}`.replace('at most <', 'below ');
}

/** A value as an operator would recognise it in their file. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v) ?? String(v);
}

// ---- values a schema cannot check on its own ----

const DURATION_RE = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The pattern durations match in the JSON Schema: "500ms", "2s", "1m30s", "1h", or a bare number (seconds). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?|([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+)$';

/** "1m30s" -> 90000; a bare number is seconds (keepalived's habit). Undefined when not a duration. */
export function durationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]];
  return Math.round(ms);
}

export interface CanonicalAddress {
  /** RFC 5952 text for IPv6 ("2001:db8::10"), dotted quad for IPv4 */
  address: string;
  family: 'inet' | 'inet6';
}

/** An IPv4 or IPv6 literal in canonical form, or a reason it is not one. */
/** V8 keeps a substring this long or longer as a slice of the string it was taken from. */
const SLICE_MIN = 13;

/**
 * A copy that is not a slice of the config text: an address kept for every server would keep the
 * whole text alive. (Text read from a UTF-8 file has no lone surrogates, so UTF-8 keeps it whole.)
 */
export function ownCopy(s: string): string {
  return s.length < SLICE_MIN ? s : Buffer.from(s, 'utf8').toString('utf8');
}

export function canonicalAddress(text: string): CanonicalAddress | string {
  const raw = text.trim();
  if (raw.includes('/')) return `"${raw}" must be a single address without a prefix length`;
  if (isIPv4(raw)) return { address: ownCopy(raw), family: 'inet' };
  if (isIPv6(raw)) return { address: new URL(`http://[${raw}]`).hostname.slice(1, -1), family: 'inet6' };
  return `"${raw}" is not an IPv4 or IPv6 address`;
}

/** node-cron's own check, so a schedule the daemon would refuse is refused at load. */
export function cronProblem(expression: string): string | undefined {
  return validateCron(expression) ? undefined : `"${expression}" is not a valid cron expression (minute hour day-of-month month day-of-week, optionally seconds first)`;
}

/** A regular expression's syntax error in words, if any. */
export function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return `not a valid regular expression: ${(err as Error).message}`;
  }
}

/**
 * A file that holds a secret: it must exist, be a regular file, and not be readable by others
 * (mode & 0o004); group or other access at all is refused, as the checkers refuse it.
 */
export function secretFileProblem(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile()) return `${path} is not a regular file`;
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      const who = mode & 0o004 ? 'world-readable' : 'accessible to group or others';
      return `${path} is ${who} (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${path}`;
    }
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${path} cannot be read: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'error')}`;
  }
}

/**
 * Deep-freezes plain data (the loaded config is shared and must not change under its readers).
 * Strings that may be slices of the config text are copied first (see ownCopy): the daemon keeps
 * the loaded config, and one slice (a state file path) kept the whole YAML text alive.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (typeof v === 'string') {
        if (v.length >= SLICE_MIN) o[k] = ownCopy(v);
      } else deepFreeze(v);
    }
    Object.freeze(value);
  }
  return value;
}
