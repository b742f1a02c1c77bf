// Attribute sets described as data (kernel name, number, kind), with one generic encoder and
// decoder derived from the description and TypeScript types inferred from it.
// Unknown attributes survive decode -> encode; malformed input is rejected, never guessed at.
import { MalformedMessageError } from '../errors';
import {
  NLA_F_NET_BYTEORDER,
  RawAttr,
  Writer,
  cString,
  parseAttrs,
  readU16Host,
  readU32Host,
  readS32Host,
  readU64Host,
} from './wire';

/**
 * Value kinds. Integers without "be" are in host order (as the kernel's NLA_U*); "be" kinds are
 * network order (__be16/__be32). Addresses stay bytes here: text belongs to the protocol above.
 */
export type Kind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 's32'
  | 'u64'
  | 'u16be'
  | 'u32be'
  | 'string' // NUL-terminated on the wire
  | 'binary'
  | 'in_addr' // 4 bytes
  | 'in6_addr' // 16 bytes
  | 'flag' // present or absent, no payload
  | 'pad' // alignment padding for 64-bit values: dropped on decode, never encoded
  | 'nested'
  | 'array' // nested, each child an element of `nested` (the child's type is its index)
  | 'struct'; // fixed C struct of integer fields

export type StructFieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'u16be' | 'u32be';
export interface StructField {
  readonly name: string;
  readonly kind: StructFieldKind;
}

export interface AttrSpec {
  /** field name in decoded objects */
  readonly name: string;
  /** the kernel's enum name, e.g. IPVS_SVC_ATTR_AF */
  readonly kernel: string;
  /** attribute number */
  readonly type: number;
  readonly kind: Kind;
  /** for nested/array */
  readonly nested?: AttrSet;
  /** for struct */
  readonly fields?: readonly StructField[];
  /** exact payload length for binary; most bytes (without NUL) for string */
  readonly len?: number;
  readonly maxLen?: number;
}

export interface AttrSet<A extends readonly AttrSpec[] = readonly AttrSpec[]> {
  readonly name: string;
  readonly attrs: A;
  readonly byType: ReadonlyMap<number, AttrSpec>;
}

export function attrSet<const A extends readonly AttrSpec[]>(name: string, attrs: A): AttrSet<A> {
  const byType = new Map<number, AttrSpec>();
  const names = new Set<string>();
  for (const a of attrs) {
    if (byType.has(a.type)) throw new Error(`${name}: attribute number ${a.type} described twice`);
    if (names.has(a.name)) throw new Error(`${name}: field name ${a.name} used twice`);
    if ((a.kind === 'nested' || a.kind === 'array') && !a.nested) throw new Error(`${name}: ${a.kernel} needs a nested set`);
    if (a.kind === 'struct' && !a.fields) throw new Error(`${name}: ${a.kernel} needs struct fields`);
    byType.set(a.type, a);
    names.add(a.name);
  }
  return { name, attrs, byType };
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
      return b.readUInt8(off);
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

/** Decodes a run of attributes with the given description. `where` names the place in errors. */
export function decode<S extends AttrSet>(set: S, buf: Buffer, where: string = set.name): Decoded<S> {
  const out: Record<string, unknown> = {};
  let unknown: RawAttr[] | undefined;
  for (const raw of parseAttrs(buf, where)) {
    const spec = set.byType.get(raw.type);
    if (!spec) {
      (unknown ??= []).push({ type: raw.type, flags: raw.flags, value: Buffer.from(raw.value) });
      continue;
    }
    if (spec.kind === 'pad') continue;
    out[spec.name] = decodeValue(spec, raw, `${where} > ${spec.kernel}`);
  }
  if (unknown) out.unknown = unknown;
  return out as Decoded<S>;
}

function decodeValue(spec: AttrSpec, raw: RawAttr, where: string): unknown {
  const v = raw.value;
  const need = INT_SIZE[spec.kind];
  if (need !== undefined) {
    if (v.length < need) throw new MalformedMessageError(`${where}: ${v.length} bytes, ${spec.kind} needs ${need}`);
    return readInt(spec.kind, v, 0, (raw.flags & NLA_F_NET_BYTEORDER) !== 0);
  }
  switch (spec.kind) {
    case 'string':
      return cString(v);
    case 'flag':
      return true;
    case 'in_addr':
    case 'in6_addr':
    case 'binary': {
      const len = spec.kind === 'in_addr' ? 4 : spec.kind === 'in6_addr' ? 16 : spec.len;
      if (len !== undefined && v.length < len) throw new MalformedMessageError(`${where}: ${v.length} bytes, needs ${len}`);
      return Buffer.from(len !== undefined ? v.subarray(0, len) : v);
    }
    case 'nested':
      return decode(spec.nested!, v, where);
    case 'array':
      return parseAttrs(v, where).map((el) => decode(spec.nested!, el.value, `${where}[${el.type}]`));
    case 'struct': {
      const size = structSize(spec.fields!);
      if (v.length < size) throw new MalformedMessageError(`${where}: ${v.length} bytes, struct needs ${size}`);
      const s: Record<string, number | bigint> = {};
      let off = 0;
      for (const f of spec.fields!) {
        s[f.name] = readInt(f.kind, v, off, false);
        off += INT_SIZE[f.kind];
      }
      return s;
    }
  }
  throw new Error(`${where}: kind ${spec.kind} has no decoder`);
}

function structSize(fields: readonly StructField[]): number {
  return fields.reduce((n, f) => n + INT_SIZE[f.kind], 0);
}

// ---- encode ----

const INT_MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u16be: 0xffff, u32: 0xffffffff, u32be: 0xffffffff };

function writeInt(w: Writer, kind: string, v: unknown, where: string): void {
  if (kind === 'u64') {
    if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new MalformedMessageError(`cannot encode ${where}: ${String(v)} is not a u64`);
    w.u64(v);
    return;
  }
  const ok =
    typeof v === 'number' &&
    Number.isInteger(v) &&
    (kind === 's32' ? v >= -0x80000000 && v <= 0x7fffffff : v >= 0 && v <= INT_MAX[kind]);
  if (!ok) throw new MalformedMessageError(`cannot encode ${where}: ${String(v)} is not a ${kind}`);
  switch (kind) {
    case 'u8':
      return w.u8(v);
    case 'u16':
      return w.u16(v);
    case 'u32':
      return w.u32(v);
    case 's32':
      return w.s32(v);
    case 'u16be':
      return w.u16be(v);
    case 'u32be':
      return w.u32be(v);
  }
}

/** Encodes an object as attributes in description order, then any preserved unknown ones. */
export function encode<S extends AttrSet>(w: Writer, set: S, value: Decoded<S>, where: string = set.name): void {
  const obj = value as Record<string, unknown>;
  for (const spec of set.attrs) {
    const v = obj[spec.name];
    if (v === undefined || spec.kind === 'pad') continue;
    encodeValue(w, spec, v, `${where} > ${spec.kernel}`);
  }
  for (const raw of value.unknown ?? []) w.attr(raw.type | raw.flags, () => w.bytes(raw.value));
}

function encodeValue(w: Writer, spec: AttrSpec, v: unknown, where: string): void {
  if (INT_SIZE[spec.kind] !== undefined) {
    w.attr(spec.type, () => writeInt(w, spec.kind, v, where));
    return;
  }
  switch (spec.kind) {
    case 'string': {
      if (typeof v !== 'string') throw new MalformedMessageError(`cannot encode ${where}: not a string`);
      const bytes = Buffer.from(v, 'utf8');
      if (bytes.includes(0)) throw new MalformedMessageError(`cannot encode ${where}: string contains NUL`);
      if (spec.maxLen !== undefined && bytes.length > spec.maxLen) {
        throw new MalformedMessageError(`cannot encode ${where}: "${v}" is longer than ${spec.maxLen} bytes`);
      }
      w.attr(spec.type, () => {
        w.bytes(bytes);
        w.u8(0);
      });
      return;
    }
    case 'flag':
      if (v === true) w.attr(spec.type, () => undefined);
      return;
    case 'in_addr':
    case 'in6_addr':
    case 'binary': {
      const len = spec.kind === 'in_addr' ? 4 : spec.kind === 'in6_addr' ? 16 : spec.len;
      if (!(v instanceof Uint8Array) || (len !== undefined && v.length !== len)) {
        throw new MalformedMessageError(`cannot encode ${where}: needs ${len ?? 'some'} bytes`);
      }
      w.attr(spec.type, () => w.bytes(v));
      return;
    }
    case 'nested': {
      const at = w.beginNest(spec.type);
      encode(w, spec.nested!, v as Decoded<AttrSet>, where);
      w.endNest(at);
      return;
    }
    case 'array': {
      if (!Array.isArray(v)) throw new MalformedMessageError(`cannot encode ${where}: not an array`);
      const at = w.beginNest(spec.type);
      v.forEach((el, i) => {
        const elAt = w.beginNest(i + 1);
        encode(w, spec.nested!, el as Decoded<AttrSet>, `${where}[${i + 1}]`);
        w.endNest(elAt);
      });
      w.endNest(at);
      return;
    }
    case 'struct': {
      const s = v as Record<string, unknown>;
      w.attr(spec.type, () => {
        for (const f of spec.fields!) writeInt(w, f.kind, s[f.name], `${where}.${f.name}`);
      });
      return;
    }
  }
  throw new Error(`${where}: kind ${spec.kind} has no encoder`);
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
