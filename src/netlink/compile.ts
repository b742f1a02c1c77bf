// Specialised decode/encode functions generated from an attribute-set description, once per set.
// They do what the generic code in schema.ts does (which they call for the rarer kinds), but
// with one switch per set and constant property names: decoding a 50,000-entry IPVS dump or
// encoding a restore of that size is the hot path, and generic keyed access was 5x slower.
import type { AttrSet, AttrSpec } from './attr-types';
import type { RawAttr, Writer } from './wire';
import { HOST_LE, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK } from './wire';

export type DecodeFn = (buf: Buffer, s: number, e: number, where: string) => Record<string, unknown>;
export type EncodeFn = (w: Writer, v: Record<string, unknown>, where: string) => void;

export interface DecodeHelpers {
  /** decodes one attribute of a non-integer kind */
  value(spec: AttrSpec, buf: Buffer, s: number, e: number, rawType: number, where: string): unknown;
  /** the decoder of a set (for nested attributes, looked up once per decoder, not per value) */
  decoder(set: AttrSet): DecodeFn;
  raw(buf: Buffer, s: number, e: number, rawType: number): RawAttr;
  badLength(where: string, type: number, offset: number, len: number, left: number): Error;
  short(where: string, spec: AttrSpec, got: number): Error;
  shortStruct(where: string, spec: AttrSpec, got: number): Error;
  /** a string attribute's text, buf[s..e) (its NUL already cut) */
  text(buf: Buffer, s: number, e: number): string;
}

export interface EncodeHelpers {
  /** encodes one attribute of a non-integer kind (header included) */
  value(w: Writer, spec: AttrSpec, v: unknown, where: string): void;
  /** the encoder of a set (for nested attributes, looked up once per encoder, not per value) */
  encoder(set: AttrSet): EncodeFn;
  intOk(kind: string, v: unknown): boolean;
  cannot(where: string, spec: AttrSpec, v: unknown): Error;
  unknown(w: Writer, attrs: RawAttr[]): void;
}

const E = HOST_LE ? 'LE' : 'BE';
const SIZE: Record<string, number> = { u8: 1, u16: 2, u32: 4, s32: 4, u64: 8, u16be: 2, u32be: 4 };
const MAX: Record<string, number> = { u8: 0xff, u16: 0xffff, u16be: 0xffff, u32: 0xffffffff, u32be: 0xffffffff };

// Integer reads as byte arithmetic: the bounds are checked once per attribute, and a Buffer
// method call per value (with its own checks) cost more than the decode under emulation.
function u16At(at: string, bigEndian: boolean): string {
  return bigEndian ? `((buf[${at}] << 8) | buf[${at} + 1])` : `(buf[${at}] | (buf[${at} + 1] << 8))`;
}
function u32At(at: string, bigEndian: boolean): string {
  return bigEndian
    ? `(buf[${at}] * 0x1000000 + ((buf[${at} + 1] << 16) | (buf[${at} + 2] << 8) | buf[${at} + 3]))`
    : `((buf[${at}] | (buf[${at} + 1] << 8) | (buf[${at} + 2] << 16)) + buf[${at} + 3] * 0x1000000)`;
}

function readExpr(kind: string): string {
  const net = `(rawType & ${NLA_F_NET_BYTEORDER})`;
  switch (kind) {
    case 'u8':
      return 'buf[vs]';
    case 'u16':
      return `${net} ? ${u16At('vs', true)} : ${u16At('vs', !HOST_LE)}`;
    case 'u32':
      return `${net} ? ${u32At('vs', true)} : ${u32At('vs', !HOST_LE)}`;
    case 's32':
      return `${net} ? buf.readInt32BE(vs) : buf.readInt32${E}(vs)`;
    case 'u64':
      return `${net} ? u64(${u32At('vs', true)}, ${u32At('vs + 4', true)}) : ${HOST_LE ? `u64(${u32At('vs + 4', false)}, ${u32At('vs', false)})` : `u64(${u32At('vs', true)}, ${u32At('vs + 4', true)})`}`;
    case 'u16be':
      return u16At('vs', true);
    case 'u32be':
      return u32At('vs', true);
  }
  throw new Error(`not an integer kind: ${kind}`);
}

// A u64 from its two 32-bit halves. Buffer#readBigUInt64* makes four BigInts per value (two
// halves, a shift, a sum); counters are mostly below 2^32, and a dump of 50,000 entries has ten
// of them each.
const U64 = 'function u64(hi, lo) { return hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : (BigInt(hi) << 32n) + BigInt(lo); }';

export function compileDecoder(set: AttrSet, h: DecodeHelpers): DecodeFn {
  const cases = set.attrs.map((a, i) => {
    const field = `o[${JSON.stringify(a.name)}]`;
    if (a.kind === 'pad') return `case ${a.type}: break;`;
    if (a.kind === 'nested') {
      const where = JSON.stringify(` > ${a.kernel}`);
      return `case ${a.type}: ${field} = (nested${i} || (nested${i} = h.decoder(specs[${i}].nested)))(buf, vs, ve, where + ${where}); break;`;
    }
    if (a.kind === 'string') {
      return `case ${a.type}: { let z = vs; while (z < ve && buf[z] !== 0) z++; ${field} = h.text(buf, vs, z); } break;`;
    }
    if (a.kind === 'struct' && a.fields!.every((f) => f.kind !== 'u64')) {
      let off = 0;
      const parts = a.fields!.map((f) => {
        const at = `vs + ${off}`;
        off += SIZE[f.kind];
        const value = f.kind === 'u8' ? `buf[${at}]` : f.kind === 'u16' || f.kind === 'u16be' ? u16At(at, f.kind === 'u16be' || !HOST_LE) : u32At(at, f.kind === 'u32be' || !HOST_LE);
        return `${JSON.stringify(f.name)}: ${value}`;
      });
      return `case ${a.type}: if (ve - vs < ${off}) throw h.shortStruct(where, specs[${i}], ve - vs); ${field} = { ${parts.join(', ')} }; break;`;
    }
    const size = SIZE[a.kind];
    if (size === undefined) return `case ${a.type}: ${field} = h.value(specs[${i}], buf, vs, ve, rawType, where); break;`;
    return `case ${a.type}: if (ve - vs < ${size}) throw h.short(where, specs[${i}], ve - vs); ${field} = ${readExpr(a.kind)}; break;`;
  });
  const nestedVars = set.attrs.map((a, i) => (a.kind === 'nested' ? `let nested${i};` : '')).join(' ');
  const body = `
    const o = {};
    let unknown;
    let off = s;
    while (e - off >= 4) {
      const len = ${u16At('off', !HOST_LE)};
      const rawType = ${u16At('off + 2', !HOST_LE)};
      const type = rawType & ${NLA_TYPE_MASK};
      if (len < 4 || len > e - off) throw h.badLength(where, type, off - s, len, e - off);
      const vs = off + 4, ve = off + len;
      switch (type) {
        ${cases.join('\n        ')}
        default: (unknown || (unknown = [])).push(h.raw(buf, vs, ve, rawType));
      }
      off += (len + 3) & ~3;
    }
    if (unknown) o.unknown = unknown;
    return o;`;
  return new Function('h', 'specs', `${nestedVars} ${U64} return function decode_${ident(set.name)}(buf, s, e, where) {${body}\n}`)(h, set.attrs) as DecodeFn;
}

/** Byte stores of an unsigned integer expression `x` of `size` bytes at b[at + off] (a Uint8Array keeps the low 8 bits). */
function storeBytes(x: string, size: number, off: number, bigEndian: boolean): string {
  return Array.from({ length: size }, (_, k) => {
    const shift = 8 * (bigEndian ? size - 1 - k : k);
    return `b[at + ${off + k}] = ${shift ? `${x} >>> ${shift}` : x};`;
  }).join(' ');
}

// How generated encoders write a fixed-size value at b[at + 4] (the attribute header is before it):
// plain byte stores, no Buffer method (with its argument checks) per value.
function writeExpr(kind: string): string {
  switch (kind) {
    case 'u8':
      return 'b[at + 4] = x;';
    case 'u16':
    case 'u32':
      return storeBytes('x', SIZE[kind], 4, !HOST_LE);
    case 's32':
      return `b.writeInt32${E}(x, at + 4);`;
    case 'u64':
      return `b.writeBigUInt64${E}(x, at + 4);`;
    case 'u16be':
    case 'u32be':
      return storeBytes('x', SIZE[kind], 4, true);
  }
  throw new Error(`not an integer kind: ${kind}`);
}

/**
 * Writes a whole fixed-size attribute into one reserved span: the header (constant bytes, known
 * from the description: nla_len and nla_type in host order), the value, zeroed padding.
 */
function fixedAttr(type: number, size: number, value: string): string {
  const header = HOST_LE ? [4 + size, 0, type & 0xff, type >>> 8] : [0, 4 + size, type >>> 8, type & 0xff];
  const head = header.map((v, k) => `b[at + ${k}] = ${v};`).join(' ');
  const pad = Array.from({ length: ((size + 3) & ~3) - size }, (_, k) => `b[at + ${4 + size + k}] = 0;`).join(' ');
  return `at = w.reserve(${4 + ((size + 3) & ~3)}); b = w.buffer; ${head} ${value} ${pad}`;
}

const FIELD_BE: Record<string, boolean> = { u16: !HOST_LE, u32: !HOST_LE, u16be: true, u32be: true };

/** A struct of integer fields: checked like the generic encoder, then stored byte by byte. */
function structAttr(a: AttrSpec, i: number): string {
  const fields = a.fields!;
  const checks = fields.map((f) => {
    const y = `x[${JSON.stringify(f.name)}]`;
    return f.kind === 'u64'
      ? `typeof ${y} === 'bigint' && ${y} >= 0n && ${y} <= 0xffffffffffffffffn`
      : `typeof ${y} === 'number' && ${y} >= 0 && ${y} <= ${MAX[f.kind]} && ${y} % 1 === 0`;
  });
  let off = 4;
  const stores = fields.map((f) => {
    const size = SIZE[f.kind];
    const y = `y = x[${JSON.stringify(f.name)}];`;
    const store =
      f.kind === 'u64' ? `b.writeBigUInt64${E}(y, at + ${off});` : f.kind === 'u8' ? `b[at + ${off}] = y;` : storeBytes('y', size, off, FIELD_BE[f.kind]);
    off += size;
    return `${y} ${store}`;
  });
  const size = off - 4;
  // a wrong value goes to the generic encoder, which throws the error naming the field
  return `if (x !== undefined) { if (typeof x !== 'object' || x === null || !(${checks.join(' && ')})) h.value(w, specs[${i}], x, where); else { ${fixedAttr(a.type, size, stores.join(' '))} } }`;
}

/** A string: ASCII text is stored char by char with its NUL; anything else (or wrong) goes the generic way. */
function stringAttr(a: AttrSpec, i: number): string {
  const tooLong = a.maxLen !== undefined ? ` || x.length > ${a.maxLen}` : '';
  const type = HOST_LE ? [a.type & 0xff, a.type >>> 8] : [a.type >>> 8, a.type & 0xff];
  return `if (x !== undefined) {
      if (typeof x !== 'string'${tooLong}) h.value(w, specs[${i}], x, where);
      else {
        n = x.length;
        for (k = 0; k < n; k++) { c = x.charCodeAt(k); if (c === 0 || c > 127) break; }
        if (k < n) h.value(w, specs[${i}], x, where);
        else {
          len = 5 + n; at = w.reserve((len + 3) & ~3); b = w.buffer;
          ${storeBytes('len', 2, 0, !HOST_LE)} b[at + 2] = ${type[0]}; b[at + 3] = ${type[1]};
          for (k = 0; k < n; k++) b[at + 4 + k] = x.charCodeAt(k);
          for (k = 4 + n; k < ((len + 3) & ~3); k++) b[at + k] = 0;
        }
      }
    }`;
}

/** The code that writes attribute specs[i] with the value in `x` (nothing when undefined). */
function attrCode(a: AttrSpec, i: number): string {
  if (a.kind === 'pad') return '';
  if (a.kind === 'nested') {
    const where = JSON.stringify(` > ${a.kernel}`);
    return `if (x !== undefined) { a = w.beginNest(${a.type}); (nested${i} || (nested${i} = h.encoder(specs[${i}].nested)))(w, x, where + ${where}); w.endNest(a); }`;
  }
  if (a.kind === 'binary' && a.len !== undefined) {
    // a wrong value goes to the generic encoder, which throws the error naming it
    return `if (x !== undefined) { if (!(x instanceof Uint8Array) || x.length !== ${a.len}) h.value(w, specs[${i}], x, where); ${fixedAttr(a.type, a.len, 'b.set(x, at + 4);')} }`;
  }
  if (a.kind === 'string') return stringAttr(a, i);
  if (a.kind === 'struct' && a.fields!.every((f) => SIZE[f.kind] !== undefined)) return structAttr(a, i);
  const size = SIZE[a.kind];
  if (size === undefined) return `if (x !== undefined) h.value(w, specs[${i}], x, where);`;
  const check =
    MAX[a.kind] !== undefined
      ? `typeof x !== 'number' || !(x >= 0 && x <= ${MAX[a.kind]}) || x % 1 !== 0`
      : `!h.intOk(${JSON.stringify(a.kind)}, x)`;
  return `if (x !== undefined) { if (${check}) throw h.cannot(where, specs[${i}], x); ${fixedAttr(a.type, size, writeExpr(a.kind))} }`;
}

const LOCALS = 'let x, y, a, at, b, n, k, c, len;';

function nestedVars(set: AttrSet): string {
  return set.attrs.map((a, i) => (a.kind === 'nested' ? `let nested${i};` : '')).join(' ');
}

export function compileEncoder(set: AttrSet, h: EncodeHelpers): EncodeFn {
  const parts = set.attrs.map((a, i) => (a.kind === 'pad' ? '' : `x = v[${JSON.stringify(a.name)}]; ${attrCode(a, i)}`));
  const body = `
    ${LOCALS}
    ${parts.filter(Boolean).join('\n    ')}
    if (v.unknown) h.unknown(w, v.unknown);`;
  return new Function('h', 'specs', `${nestedVars(set)} return function encode_${ident(set.name)}(w, v, where) {${body}\n}`)(h, set.attrs) as EncodeFn;
}

/**
 * An encoder of some attributes of a set taken as arguments, not as an object: fields(w, where,
 * v0, v1, ...) writes what encode() writes for { [names[0]]: v0, [names[1]]: v1, ... } (in
 * description order, undefined values left out, the same checks and errors), without the object.
 */
export function compileFieldsEncoder(set: AttrSet, names: readonly string[], h: EncodeHelpers): (w: Writer, where: string, ...values: unknown[]) => void {
  const args = names.map((name) => {
    const i = set.attrs.findIndex((a) => a.name === name);
    if (i < 0 || set.attrs[i].kind === 'pad') throw new Error(`${set.name}: no attribute named ${name}`);
    return i;
  });
  const parts = set.attrs.map((a, i) => (args.includes(i) ? `x = v${args.indexOf(i)}; ${attrCode(a, i)}` : ''));
  const params = names.map((_, k) => `v${k}`).join(', ');
  const body = `
    ${LOCALS}
    ${parts.filter(Boolean).join('\n    ')}`;
  return new Function('h', 'specs', `${nestedVars(set)} return function fields_${ident(set.name)}(w, where, ${params}) {${body}\n}`)(h, set.attrs);
}

function ident(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
