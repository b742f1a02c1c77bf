// Attribute sets described as data (kernel name, number, kind), with one generic encoder and
// decoder derived from the description and TypeScript types inferred from it.
// Unknown attributes survive decode -> encode; malformed input is rejected, never guessed at.
import { MalformedMessageError } from '../errors';
import { DecodeFn, DecodeHelpers, EncodeFn, EncodeHelpers, compileDecoder, compileEncoder, compileFieldsEncoder } from './compile';
import {
  NLA_F_NET_BYTEORDER,
  NLA_TYPE_MASK,
  RawAttr,
  Writer,
  parseAttrs,
  readU16Host,
  readU32Host,
  readS32Host,
  readU64Host,
} from './wire';

export type { AttrSet, AttrSpec, Kind, StructField, StructFieldKind } from './attr-types';
import type { AttrSet, AttrSpec, StructField } from './attr-types';

export function attrSet<const A extends readonly AttrSpec[]>(name: string, attrs: A): AttrSet<A> {
  const byType = new Map<number, AttrSpec>();
  const names = new Set<string>();
  const table: (AttrSpec | undefined)[] = [];
  for (const a of attrs) {
    if (byType.has(a.type)) throw new Error(`${name}: attribute number ${a.type} described twice`);
    if (names.has(a.name)) throw new Error(`${name}: field name ${a.name} used twice`);
    if ((a.kind === 'nested' || a.kind === 'array') && !a.nested) throw new Error(`${name}: ${a.kernel} needs a nested set`);
    if (a.kind === 'struct' && !a.fields) throw new Error(`${name}: ${a.kernel} needs struct fields`);
    byType.set(a.type, a);
    names.add(a.name);
  }
  for (const [type, a] of byType) table[type] = a;
  for (let i = 0; i < table.length; i++) table[i] ??= undefined;
  return { name, attrs, byType, table };
}

/**
 * A decode-only view of a set: the attributes named in `skip` are passed over (as padding is:
 * not decoded, not kept as unknown), and nested sets can be swapped for views of their own.
 * The description stays the single source; a listing that never shows counters decodes none.
 */
export function decodeView<S extends AttrSet>(set: S, change: { skip?: readonly string[]; nested?: Readonly<Record<string, AttrSet>> }): S {
  const skip = new Set(change.skip ?? []);
  const nested = change.nested ?? {};
  for (const name of [...skip, ...Object.keys(nested)]) {
    if (!set.attrs.some((a) => a.name === name)) throw new Error(`${set.name}: no attribute named ${name}`);
  }
  const attrs = set.attrs.map((a): AttrSpec => {
    if (skip.has(a.name)) return { ...a, kind: 'pad', nested: undefined };
    const view = nested[a.name];
    return view ? { ...a, nested: view } : a;
  });
  return attrSet(`${set.name} (view)`, attrs) as unknown as S;
}

// ---- types inferred from a description ----

type IntKinds = 'u8' | 'u16' | 'u32' | 's32' | 'u16be' | 'u32be';
type StructValue<F extends readonly StructField[]> = { [K in F[number] as K['name']]: K['kind'] extends 'u64' ? bigint : number };

export type ValueOf<S> = S extends { kind: IntKinds }
  ? number
  : S extends { kind: 'u64' }
    ? bigint
    : S extends { kind: 'string' }
      ? string
      : S extends { kind: 'flag' }
        ? true
        : S extends { kind: 'nested'; nested: AttrSet<infer N> }
          ? Decoded<AttrSet<N>>
          : S extends { kind: 'array'; nested: AttrSet<infer N> }
            ? Decoded<AttrSet<N>>[]
            : S extends { kind: 'struct'; fields: infer F extends readonly StructField[] }
              ? StructValue<F>
              : S extends { kind: 'pad' }
                ? never
                : Buffer;

/** A decoded attribute set: every described attribute optional, unknown ones kept raw. */
export type Decoded<S extends AttrSet> = {
  [K in S['attrs'][number] as K['name']]?: ValueOf<K>;
} & { unknown?: RawAttr[] };

// ---- decode ----

const INT_SIZE: Record<string, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, u16be: 2, u32be: 4 };

function readInt(kind: string, b: Buffer, off: number, netOrder: boolean): number | bigint {
  switch (kind) {
    case 'u8':
      return b[off];
    case 'u16':
      return netOrder ? b.readUInt16BE(off) : readU16Host(b, off);
    case 'u32':
      return netOrder ? b.readUInt32BE(off) : readU32Host(b, off);
    case 's32':
      return netOrder ? b.readInt32BE(off) : readS32Host(b, off);
    case 'u64':
      return netOrder ? b.readBigUInt64BE(off) : readU64Host(b, off);
    case 'u16be':
      return b.readUInt16BE(off);
    case 'u32be':
      return b.readUInt32BE(off);
  }
  throw new Error(`not an integer kind: ${kind}`);
}

function malformed(where: string, spec: AttrSpec | undefined, what: string): MalformedMessageError {
  return new MalformedMessageError(`${where}${spec ? ` > ${spec.kernel}` : ''}: ${what}`);
}

/** Decodes a run of attributes with the given description. `where` names the place in errors. */
export function decode<S extends AttrSet>(set: S, buf: Buffer, where: string = set.name): Decoded<S> {
  return decodeRange(set, buf, 0, buf.length, where) as Decoded<S>;
}

/** decode() of buf from `start` to its end, without a view of that part (a dump decodes thousands). */
export function decodeFrom<S extends AttrSet>(set: S, buf: Buffer, start: number, where: string = set.name): Decoded<S> {
  return decodeRange(set, buf, start, buf.length, where) as Decoded<S>;
}

/** decode() of buf[start..end), without a view of that part. */
export function decodeSpan<S extends AttrSet>(set: S, buf: Buffer, start: number, end: number, where: string = set.name): Decoded<S> {
  return decodeRange(set, buf, start, end, where) as Decoded<S>;
}

// Each set gets a decoder and an encoder generated from its description (compile.ts) on first use.
const decoders = new WeakMap<AttrSet, DecodeFn>();
const encoders = new WeakMap<AttrSet, EncodeFn>();

const decodeHelpers: DecodeHelpers = {
  value: decodeValue,
  decoder: decoderOf,
  raw: (buf, s, e, rawType) => ({ type: rawType & NLA_TYPE_MASK, flags: rawType & ~NLA_TYPE_MASK & 0xffff, value: Buffer.from(buf.subarray(s, e)) }),
  badLength: (where, type, offset, len, left) => malformed(where, undefined, `attribute type ${type} at offset ${offset} has length ${len}, ${left} bytes left`),
  short: (where, spec, got) => malformed(where, spec, `${got} bytes, ${spec.kind} needs ${INT_SIZE[spec.kind]}`),
  shortStruct: (where, spec, got) => malformed(where, spec, `${got} bytes, struct needs ${structSize(spec.fields!)}`),
  text,
};

// Names (schedulers, interfaces, persistence engines) are a few ASCII bytes: made char by char
// they cost less than Buffer#toString's dispatch; anything else is decoded as UTF-8.
function text(buf: Buffer, s: number, e: number): string {
  if (e - s > 32) return buf.toString('utf8', s, e);
  let out = '';
  for (let i = s; i < e; i++) {
    const c = buf[i];
    if (c >= 0x80) return buf.toString('utf8', s, e);
    out += String.fromCharCode(c);
  }
  return out;
}

// Walks the TLVs by offset, no per-attribute views. Fewer than 4 bytes left over is tolerated,
// as the kernel does (trailing padding).
function decodeRange(set: AttrSet, buf: Buffer, start: number, end: number, where: string): Record<string, unknown> {
  return decoderOf(set)(buf, start, end, where);
}

function decoderOf(set: AttrSet): DecodeFn {
  let fn = decoders.get(set);
  if (!fn) decoders.set(set, (fn = compileDecoder(set, decodeHelpers)));
  return fn;
}

function decodeValue(spec: AttrSpec, buf: Buffer, s: number, e: number, rawType: number, where: string): unknown {
  const kind = spec.kind;
  const need = INT_SIZE[kind];
  if (need !== undefined) {
    if (e - s < need) throw malformed(where, spec, `${e - s} bytes, ${kind} needs ${need}`);
    return readInt(kind, buf, s, (rawType & NLA_F_NET_BYTEORDER) !== 0);
  }
  switch (kind) {
    case 'string': {
      // names are a few bytes: a loop finds the NUL cheaper than Buffer#indexOf
      let end = s;
      while (end < e && buf[end] !== 0) end++;
      return text(buf, s, end);
    }
    case 'flag':
      return true;
    case 'in_addr':
    case 'in6_addr':
    case 'binary': {
      const len = kind === 'in_addr' ? 4 : kind === 'in6_addr' ? 16 : spec.len;
      if (len !== undefined && e - s < len) throw malformed(where, spec, `${e - s} bytes, needs ${len}`);
      return copyBytes(buf, s, len ?? e - s);
    }
    case 'nested':
      return decodeRange(spec.nested!, buf, s, e, `${where} > ${spec.kernel}`);
    case 'array':
      return parseAttrs(buf.subarray(s, e), `${where} > ${spec.kernel}`).map((el) =>
        decode(spec.nested!, el.value, `${where} > ${spec.kernel}[${el.type}]`),
      );
    case 'struct': {
      const size = structSize(spec.fields!);
      if (e - s < size) throw malformed(where, spec, `${e - s} bytes, struct needs ${size}`);
      const v: Record<string, number | bigint> = {};
      let off = s;
      for (const f of spec.fields!) {
        v[f.name] = readInt(f.kind, buf, off, false);
        off += INT_SIZE[f.kind];
      }
      return v;
    }
  }
  throw new Error(`${where}: kind ${kind} has no decoder`);
}

// A copy of n bytes (the receive buffer is reused). Attributes are mostly a few bytes: a pooled
// allocation and a loop beat Buffer.from(subarray) and Buffer.copyBytesFrom (measured).
function copyBytes(buf: Buffer, s: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  if (n > 64) buf.copy(out, 0, s, s + n);
  else for (let i = 0; i < n; i++) out[i] = buf[s + i];
  return out;
}

function structSize(fields: readonly StructField[]): number {
  return fields.reduce((n, f) => n + INT_SIZE[f.kind], 0);
}

// ---- encode ----

const INT_MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u16be: 0xffff, u32: 0xffffffff, u32be: 0xffffffff };

function intOk(kind: string, v: unknown): boolean {
  if (kind === 'u64') return typeof v === 'bigint' && v >= 0n && v <= 0xffffffffffffffffn;
  if (typeof v !== 'number' || !Number.isInteger(v)) return false;
  return kind === 's32' ? v >= -0x80000000 && v <= 0x7fffffff : v >= 0 && v <= INT_MAX[kind];
}

function writeIntUnchecked(w: Writer, kind: string, v: unknown): void {
  switch (kind) {
    case 'u8':
      return w.u8(v as number);
    case 'u16':
      return w.u16(v as number);
    case 'u32':
      return w.u32(v as number);
    case 's32':
      return w.s32(v as number);
    case 'u64':
      return w.u64(v as bigint);
    case 'u16be':
      return w.u16be(v as number);
    case 'u32be':
      return w.u32be(v as number);
  }
}

function writeInt(w: Writer, kind: string, v: unknown, where: string): void {
  if (!intOk(kind, v)) throw new MalformedMessageError(`cannot encode ${where}: ${String(v)} is not a ${kind}`);
  writeIntUnchecked(w, kind, v);
}

const encodeHelpers: EncodeHelpers = {
  value: encodeValue,
  encoder: encoderOf,
  intOk,
  cannot: (where, spec, v) => cannot(where, spec, `${String(v)} is not a ${spec.kind}`),
  unknown(w, attrs) {
    for (const raw of attrs) {
      const at = w.beginAttr(raw.type | raw.flags);
      w.bytes(raw.value);
      w.endAttr(at);
    }
  },
};

/** Encodes an object as attributes in description order, then any preserved unknown ones. */
export function encode<S extends AttrSet>(w: Writer, set: S, value: Decoded<S>, where: string = set.name): void {
  encoderOf(set)(w, value as Record<string, unknown>, where);
}

/**
 * An encoder of the named attributes of a set, their values given as arguments in that order:
 * the same bytes and errors as encode() with an object of those fields, without the object.
 */
export function fieldsEncoder<S extends AttrSet>(set: S, names: readonly (keyof Decoded<S> & string)[]): (w: Writer, where: string, ...values: unknown[]) => void {
  return compileFieldsEncoder(set, names, encodeHelpers);
}

function encoderOf(set: AttrSet): EncodeFn {
  let fn = encoders.get(set);
  if (!fn) encoders.set(set, (fn = compileEncoder(set, encodeHelpers)));
  return fn;
}

function cannot(where: string, spec: AttrSpec, what: string): MalformedMessageError {
  return new MalformedMessageError(`cannot encode ${where} > ${spec.kernel}: ${what}`);
}

function encodeValue(w: Writer, spec: AttrSpec, v: unknown, where: string): void {
  const kind = spec.kind;
  if (INT_SIZE[kind] !== undefined) {
    if (!intOk(kind, v)) throw cannot(where, spec, `${String(v)} is not a ${kind}`);
    const at = w.beginAttr(spec.type);
    writeIntUnchecked(w, kind, v);
    w.endAttr(at);
    return;
  }
  switch (kind) {
    case 'string': {
      if (typeof v !== 'string') throw cannot(where, spec, 'not a string');
      const at = w.beginAttr(spec.type);
      const n = w.utf8(v);
      w.u8(0);
      w.endAttr(at);
      if (v.includes('\0')) throw cannot(where, spec, 'string contains NUL');
      if (spec.maxLen !== undefined && n > spec.maxLen) throw cannot(where, spec, `"${v}" is longer than ${spec.maxLen} bytes`);
      return;
    }
    case 'flag':
      if (v === true) w.endAttr(w.beginAttr(spec.type));
      return;
    case 'in_addr':
    case 'in6_addr':
    case 'binary': {
      const len = kind === 'in_addr' ? 4 : kind === 'in6_addr' ? 16 : spec.len;
      if (!(v instanceof Uint8Array) || (len !== undefined && v.length !== len)) throw cannot(where, spec, `needs ${len ?? 'some'} bytes`);
      const at = w.beginAttr(spec.type);
      w.bytes(v);
      w.endAttr(at);
      return;
    }
    case 'nested': {
      const at = w.beginNest(spec.type);
      encode(w, spec.nested!, v as Decoded<AttrSet>, `${where} > ${spec.kernel}`);
      w.endNest(at);
      return;
    }
    case 'array': {
      if (!Array.isArray(v)) throw cannot(where, spec, 'not an array');
      const at = w.beginNest(spec.type);
      v.forEach((el, i) => {
        const elAt = w.beginNest(i + 1);
        encode(w, spec.nested!, el as Decoded<AttrSet>, `${where} > ${spec.kernel}[${i + 1}]`);
        w.endNest(elAt);
      });
      w.endNest(at);
      return;
    }
    case 'struct': {
      const s = v as Record<string, unknown>;
      const at = w.beginAttr(spec.type);
      for (const f of spec.fields!) writeInt(w, f.kind, s[f.name], `${where} > ${spec.kernel}.${f.name}`);
      w.endAttr(at);
      return;
    }
  }
  throw new Error(`${where}: kind ${kind} has no encoder`);
}

/** Convenience: encode one attribute set into a fresh buffer (tests, fixtures). */
export function encodeToBuffer<S extends AttrSet>(set: S, value: Decoded<S>): Buffer {
  const w = new Writer();
  encode(w, set, value);
  return w.finish();
}

// ---- fixed headers (ifaddrmsg, ifinfomsg, ...): a struct description used outside any attribute ----

export type StructOf<F extends readonly StructField[]> = StructValue<F>;

/** Bytes taken by a fixed struct. */
export function structLength(fields: readonly StructField[]): number {
  return structSize(fields);
}

/** Writes a fixed struct (a family header after nlmsghdr); fields left out are written as 0. */
export function encodeStruct<F extends readonly StructField[]>(w: Writer, fields: F, value: Partial<StructValue<F>>, where = 'struct'): void {
  const v = value as Record<string, unknown>;
  for (const f of fields) writeInt(w, f.kind, v[f.name] ?? (f.kind === 'u64' ? 0n : 0), `${where}.${f.name}`);
}

/** Reads a fixed struct from the start of `buf`; returns it and the bytes after it. */
export function decodeStruct<F extends readonly StructField[]>(fields: F, buf: Buffer, where = 'struct'): { value: StructValue<F>; rest: Buffer } {
  const size = structSize(fields);
  if (buf.length < size) throw new MalformedMessageError(`${where}: ${buf.length} bytes, needs ${size}`);
  const value: Record<string, number | bigint> = {};
  let off = 0;
  for (const f of fields) {
    value[f.name] = readInt(f.kind, buf, off, false);
    off += INT_SIZE[f.kind];
  }
  return { value: value as StructValue<F>, rest: buf.subarray(size) };
}
