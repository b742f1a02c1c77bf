// The description of an attribute set, as data: what schema.ts derives codecs from and
// compile.ts compiles (a module of its own so that the two do not import each other).

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
  /** the same, indexed by attribute number (fast lookup while decoding) */
  readonly table: readonly (AttrSpec | undefined)[];
}
