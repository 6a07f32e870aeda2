/**
 * Primitive encoders and decoders of the Kafka wire format: big-endian
 * integers, zigzag varints, int16-length strings, int32-length bytes and
 * int32-count arrays (classic encodings), plus the compact forms and tagged
 * fields of flexible versions (KIP-482): `compactString` (uvarint length + 1),
 * `compactArray` (uvarint count + 1) and a tagged-field section (uvarint count,
 * then `tag uvarint, size uvarint, data` per field).
 *
 * {@linkcode Writer} is a growable buffer that doubles its capacity, so encoding
 * costs amortised O(1) per byte and never allocates per field.
 * {@linkcode Reader} walks a `Uint8Array` through a `DataView` and checks every
 * length against the bytes that remain and against `lib/limits.ts` before it
 * allocates anything. Truncated or garbage input throws a {@linkcode KaError}
 * whose code the caller picks (`INVALID_REQUEST` for frames, `CORRUPT_MESSAGE`
 * for record batches); a `RangeError` or `TypeError` escaping a Reader is a bug.
 *
 * Sans-I/O: no `Deno.*`, no timers, no clock.
 * @module
 */
import { assert } from "../assert.ts";
import { KaError } from "../errors.ts";
import { ARRAY_LENGTH_MAX, STRING_BYTES_MAX } from "../limits.ts";
import type { ErrorName } from "./error_codes.ts";

const TEXT_ENCODER = new TextEncoder();
const TEXT_DECODER = new TextDecoder("utf-8", { fatal: true });
const INITIAL_CAPACITY_BYTES = 256;
/** Strings shorter than this are decoded by hand when they are ASCII (cheaper than TextDecoder). */
const ASCII_FAST_PATH_BYTES_MAX = 64;

/** Grows `Uint8Array` output; see the module doc. */
export class Writer {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  /** `capacity` is only a hint: the buffer grows as needed. */
  constructor(capacity: number = INITIAL_CAPACITY_BYTES) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  #ensure(extraBytes: number): void {
    const needed = this.#pos + extraBytes;
    if (needed <= this.#buf.length) return;
    let capacity = this.#buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Writes a signed 8-bit integer. */
  int8(value: number): this {
    this.#ensure(1);
    this.#view.setInt8(this.#pos, value);
    this.#pos += 1;
    return this;
  }

  /** Writes a boolean as one byte (0 or 1). */
  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /** Writes a big-endian signed 16-bit integer. */
  int16(value: number): this {
    this.#ensure(2);
    this.#view.setInt16(this.#pos, value);
    this.#pos += 2;
    return this;
  }

  /** Writes a big-endian signed 32-bit integer. */
  int32(value: number): this {
    this.#ensure(4);
    this.#view.setInt32(this.#pos, value);
    this.#pos += 4;
    return this;
  }

  /** Writes a big-endian unsigned 32-bit integer. */
  uint32(value: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, value);
    this.#pos += 4;
    return this;
  }

  /** Writes a big-endian signed 64-bit integer. */
  int64(value: bigint): this {
    this.#ensure(8);
    this.#view.setBigInt64(this.#pos, value);
    this.#pos += 8;
    return this;
  }

  /** Writes a zigzag-encoded signed 32-bit varint (1 to 5 bytes). */
  varint(value: number): this {
    return this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** Writes an unsigned varint (0 to 2^32 - 1, 1 to 5 bytes). */
  uvarint(value: number): this {
    this.#ensure(5);
    let v = value >>> 0;
    const buf = this.#buf;
    let pos = this.#pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.#pos = pos;
    return this;
  }

  /** Writes a zigzag-encoded signed 64-bit varlong (1 to 10 bytes). */
  varlong(value: bigint): this {
    const v = BigInt.asIntN(64, value);
    let zz = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.#ensure(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (zz >= 0x80n) {
      buf[pos++] = Number(zz & 0x7fn) | 0x80;
      zz >>= 7n;
    }
    buf[pos++] = Number(zz);
    this.#pos = pos;
    return this;
  }

  /**
   * Writes a zigzag varlong from a safe integer without going through bigint:
   * the hot path for record timestamp deltas.
   */
  varlongNumber(value: number): this {
    if (!Number.isSafeInteger(value) || Math.abs(value) > 2 ** 51) {
      return this.varlong(BigInt(Math.trunc(value)));
    }
    let zz = value >= 0 ? value * 2 : -value * 2 - 1;
    this.#ensure(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (zz >= 0x80) {
      buf[pos++] = (zz % 0x80) | 0x80;
      zz = Math.floor(zz / 0x80);
    }
    buf[pos++] = zz;
    this.#pos = pos;
    return this;
  }

  /** Writes a non-null string with an int16 byte length. */
  string(value: string): this {
    this.#ensure(2 + value.length * 3);
    const start = this.#pos + 2;
    const { written } = TEXT_ENCODER.encodeInto(value, this.#buf.subarray(start));
    if (written > STRING_BYTES_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot encode string as its length must be at most ${STRING_BYTES_MAX} bytes: current value is ${written}`,
      );
    }
    this.#view.setInt16(this.#pos, written);
    this.#pos = start + written;
    return this;
  }

  /** Writes a string, or -1 as its length for null. */
  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  /** Writes bytes with an int32 length. */
  bytes(value: Uint8Array): this {
    this.int32(value.length);
    return this.raw(value);
  }

  /** Writes bytes, or -1 as the length for null. */
  nullableBytes(value: Uint8Array | null): this {
    return value === null ? this.int32(-1) : this.bytes(value);
  }

  /** Writes an int32 count (-1 for null), then `fn` for each item. */
  array<T>(items: readonly T[] | null, fn: (w: Writer, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) fn(this, item);
    return this;
  }

  /** Writes an array of int32 values (a common Kafka field type). */
  int32Array(items: readonly number[] | null): this {
    if (items === null) return this.int32(-1);
    this.#ensure(4 + 4 * items.length);
    this.int32(items.length);
    for (const item of items) this.int32(item);
    return this;
  }

  /** Writes a non-null compact string (flexible versions): uvarint length + 1, then UTF-8. */
  compactString(value: string): this {
    const bytes = TEXT_ENCODER.encode(value);
    if (bytes.length > STRING_BYTES_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Cannot encode string as its length must be at most ${STRING_BYTES_MAX} bytes: current value is ${bytes.length}`,
      );
    }
    this.uvarint(bytes.length + 1);
    return this.raw(bytes);
  }

  /** Writes a compact string, or 0 as its length for null. */
  compactNullableString(value: string | null): this {
    return value === null ? this.uvarint(0) : this.compactString(value);
  }

  /** Writes a compact array: uvarint count + 1 (0 for null), then `fn` for each item. */
  compactArray<T>(items: readonly T[] | null, fn: (w: Writer, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) fn(this, item);
    return this;
  }

  /** Writes an empty tagged-field section (flexible versions): a zero count. */
  emptyTaggedFields(): this {
    return this.uvarint(0);
  }

  /** Copies `value` as is. */
  raw(value: Uint8Array): this {
    this.#ensure(value.length);
    this.#buf.set(value, this.#pos);
    this.#pos += value.length;
    return this;
  }

  /** Overwrites an int32 at an earlier `offset` (length prefixes). */
  patchInt32(offset: number, value: number): this {
    assert(offset >= 0 && offset + 4 <= this.#pos, `Cannot patch int32 at ${offset}`);
    this.#view.setInt32(offset, value);
    return this;
  }

  /** Overwrites a uint32 at an earlier `offset` (CRC fields). */
  patchUint32(offset: number, value: number): this {
    assert(offset >= 0 && offset + 4 <= this.#pos, `Cannot patch uint32 at ${offset}`);
    this.#view.setUint32(offset, value);
    return this;
  }

  /**
   * The bytes written, as a view of the internal buffer (no copy). Do not keep
   * writing to this Writer after calling it.
   */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Options for {@linkcode Reader}. */
export interface ReaderOptions {
  /** Code of the KaError thrown on truncated or invalid input; default INVALID_REQUEST. */
  errorName?: ErrorName;
}

/** Reads the primitives {@linkcode Writer} writes; see the module doc. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #errorName: ErrorName;
  #pos: number;

  /**
   * Reads `bytes` from `offset`. `errorName` (or `{ errorName }`) picks the code
   * of the KaError thrown for truncated or invalid input.
   */
  constructor(
    bytes: Uint8Array,
    offset: number = 0,
    errorName: ErrorName | ReaderOptions = "INVALID_REQUEST",
  ) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#errorName = typeof errorName === "string"
      ? errorName
      : (errorName.errorName ?? "INVALID_REQUEST");
    if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
      throw this.error(`Cannot read from offset ${offset}: only ${bytes.length} bytes`);
    }
    this.#pos = offset;
  }

  /** Current read position. */
  get offset(): number {
    return this.#pos;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  /** A KaError with this reader's code. */
  error(message: string): KaError {
    return KaError.of(this.#errorName, message);
  }

  #need(n: number, what: string): void {
    if (this.#bytes.length - this.#pos < n) {
      throw this.error(
        `Cannot read ${what} at offset ${this.#pos}: needs ${n} bytes, ${
          this.#bytes.length - this.#pos
        } left`,
      );
    }
  }

  /** Reads a signed 8-bit integer. */
  int8(): number {
    this.#need(1, "int8");
    return this.#view.getInt8(this.#pos++);
  }

  /** Reads a boolean (any non-zero byte is true, as in Kafka). */
  bool(): boolean {
    return this.int8() !== 0;
  }

  /** Reads a big-endian signed 16-bit integer. */
  int16(): number {
    this.#need(2, "int16");
    const v = this.#view.getInt16(this.#pos);
    this.#pos += 2;
    return v;
  }

  /** Reads a big-endian signed 32-bit integer. */
  int32(): number {
    this.#need(4, "int32");
    const v = this.#view.getInt32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Reads a big-endian unsigned 32-bit integer. */
  uint32(): number {
    this.#need(4, "uint32");
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Reads a big-endian signed 64-bit integer. */
  int64(): bigint {
    this.#need(8, "int64");
    const v = this.#view.getBigInt64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** Reads an unsigned varint of at most 5 bytes (0 to 2^32 - 1). */
  uvarint(): number {
    const bytes = this.#bytes;
    let pos = this.#pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= bytes.length) {
        throw this.error(`Cannot read varint at offset ${this.#pos}: input ends inside it`);
      }
      const b = bytes[pos++];
      if (shift === 28 && b > 0x0f) {
        throw this.error(`Cannot read varint at offset ${this.#pos}: it exceeds 32 bits`);
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.#pos = pos;
        return result >>> 0;
      }
    }
    throw this.error(`Cannot read varint at offset ${this.#pos}: it exceeds 5 bytes`);
  }

  /** Reads a zigzag-encoded signed 32-bit varint. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Reads a zigzag-encoded signed 64-bit varlong. */
  varlong(): bigint {
    const bytes = this.#bytes;
    let pos = this.#pos;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= bytes.length) {
        throw this.error(`Cannot read varlong at offset ${this.#pos}: input ends inside it`);
      }
      const b = bytes[pos++];
      if (shift === 63n && b > 0x01) {
        throw this.error(`Cannot read varlong at offset ${this.#pos}: it exceeds 64 bits`);
      }
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.#pos = pos;
        return (result >> 1n) ^ -(result & 1n);
      }
    }
    throw this.error(`Cannot read varlong at offset ${this.#pos}: it exceeds 10 bytes`);
  }

  /**
   * Reads a zigzag varlong as a number: the hot path for timestamp deltas.
   * Values beyond ±2^53 throw, since a number cannot hold them exactly.
   */
  varlongNumber(): number {
    const bytes = this.#bytes;
    const start = this.#pos;
    let pos = start;
    let zz = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= bytes.length) {
        throw this.error(`Cannot read varlong at offset ${start}: input ends inside it`);
      }
      const b = bytes[pos++];
      zz += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.#pos = pos;
        return zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2;
      }
      scale *= 0x80;
    }
    // 7 bytes hold 49 bits, exact in a double; beyond that, go through bigint.
    const v = this.varlong();
    if (v < -(2n ** 53n) || v > 2n ** 53n) {
      this.#pos = start;
      throw this.error(`Cannot read varlong at offset ${start} as a number: ${v} is too large`);
    }
    return Number(v);
  }

  #stringBody(length: number): string {
    const bytes = this.#bytes;
    const start = this.#pos;
    const end = start + length;
    if (length < ASCII_FAST_PATH_BYTES_MAX) {
      let s = "";
      let i = start;
      for (; i < end; i++) {
        const b = bytes[i];
        if (b >= 0x80) break;
        s += String.fromCharCode(b);
      }
      if (i === end) {
        this.#pos = end;
        return s;
      }
    }
    let s: string;
    try {
      s = TEXT_DECODER.decode(bytes.subarray(start, end));
    } catch {
      throw this.error(`Cannot read string at offset ${start}: invalid UTF-8`);
    }
    this.#pos = end;
    return s;
  }

  /** Reads a non-null string with an int16 byte length. */
  string(): string {
    const s = this.nullableString();
    if (s === null) throw this.error(`Cannot read string at offset ${this.#pos - 2}: it is null`);
    return s;
  }

  /** Reads a string with an int16 byte length; -1 is null. */
  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0 || length > STRING_BYTES_MAX) {
      throw this.error(`Cannot read string at offset ${this.#pos - 2}: bad length ${length}`);
    }
    this.#need(length, "string");
    return this.#stringBody(length);
  }

  /** Reads `length` bytes of UTF-8 (record header keys use varint lengths). */
  utf8(length: number): string {
    if (!Number.isInteger(length) || length < 0) {
      throw this.error(`Cannot read string at offset ${this.#pos}: bad length ${length}`);
    }
    this.#need(length, "string");
    return this.#stringBody(length);
  }

  /** Reads non-null bytes with an int32 length (a view, not a copy). */
  bytes(): Uint8Array {
    const b = this.nullableBytes();
    if (b === null) throw this.error(`Cannot read bytes at offset ${this.#pos - 4}: they are null`);
    return b;
  }

  /** Reads bytes with an int32 length; -1 is null. Returns a view, not a copy. */
  nullableBytes(): Uint8Array | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) {
      throw this.error(`Cannot read bytes at offset ${this.#pos - 4}: bad length ${length}`);
    }
    return this.raw(length);
  }

  /** Reads an int32 count (-1 is null → `[]`), then `fn` once per item. */
  array<T>(fn: (r: Reader) => T): T[] {
    return this.nullableArray(fn) ?? [];
  }

  /** Reads an int32 count (-1 is null), then `fn` once per item. */
  nullableArray<T>(fn: (r: Reader) => T): T[] | null {
    const count = this.int32();
    if (count === -1) return null;
    // Every element of every array we decode takes at least one byte, so a
    // count above the bytes left is garbage: refuse it before allocating.
    if (count < 0 || count > ARRAY_LENGTH_MAX || count > this.remaining) {
      throw this.error(
        `Cannot read array at offset ${
          this.#pos - 4
        }: bad count ${count} (${this.remaining} bytes left)`,
      );
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(fn(this));
    return items;
  }

  /** Reads an int32-count array of int32 values (null → `[]`). */
  int32Array(): number[] {
    return this.array(readInt32);
  }

  /** Reads a non-null compact string (uvarint length + 1, flexible versions). */
  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) {
      throw this.error(`Cannot read compact string at offset ${this.#pos}: it is null`);
    }
    return s;
  }

  /** Reads a compact string; a length of 0 is null. */
  compactNullableString(): string | null {
    const start = this.#pos;
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    const length = lengthPlusOne - 1;
    if (length > STRING_BYTES_MAX) {
      throw this.error(`Cannot read compact string at offset ${start}: bad length ${length}`);
    }
    this.#need(length, "string");
    return this.#stringBody(length);
  }

  /** Reads a compact array (uvarint count + 1; 0 is null → `[]`), then `fn` once per item. */
  compactArray<T>(fn: (r: Reader) => T): T[] {
    const start = this.#pos;
    const countPlusOne = this.uvarint();
    if (countPlusOne === 0) return [];
    const count = countPlusOne - 1;
    if (count > ARRAY_LENGTH_MAX || count > this.remaining) {
      throw this.error(
        `Cannot read compact array at offset ${start}: bad count ${count} (${this.remaining} bytes left)`,
      );
    }
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(fn(this));
    return items;
  }

  /**
   * Reads a tagged-field section and skips every field (we define no tagged
   * fields we need to read), checking tags ascend as KIP-482 requires.
   */
  skipTaggedFields(): void {
    const start = this.#pos;
    const count = this.uvarint();
    if (count > this.remaining) {
      throw this.error(`Cannot read tagged fields at offset ${start}: bad count ${count}`);
    }
    let lastTag = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= lastTag) {
        throw this.error(`Cannot read tagged fields at offset ${start}: tag ${tag} out of order`);
      }
      lastTag = tag;
      this.skip(this.uvarint());
    }
  }

  /** Returns the next `n` bytes as a view (not a copy) and skips them. */
  raw(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) {
      throw this.error(`Cannot read ${n} bytes at offset ${this.#pos}`);
    }
    this.#need(n, "bytes");
    const b = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.raw(n);
  }
}

function readInt32(r: Reader): number {
  return r.int32();
}

/** Byte length of `value` as an unsigned varint. */
export function sizeOfUvarint(value: number): number {
  let v = value >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Byte length of `value` as a zigzag varint. */
export function sizeOfVarint(value: number): number {
  return sizeOfUvarint(((value << 1) ^ (value >> 31)) >>> 0);
}

/** Byte length of the safe integer `value` as a zigzag varlong. */
export function sizeOfVarlongNumber(value: number): number {
  if (!Number.isSafeInteger(value) || Math.abs(value) > 2 ** 51) {
    const v = BigInt.asIntN(64, BigInt(Math.trunc(value)));
    let zz = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    let n = 1;
    while (zz >= 0x80n) {
      zz >>= 7n;
      n++;
    }
    return n;
  }
  let zz = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (zz >= 0x80) {
    zz = Math.floor(zz / 0x80);
    n++;
  }
  return n;
}

/** Byte length of `value` encoded as UTF-8. */
export function utf8Length(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    } else n += 3;
  }
  return n;
}

/** UTF-8 bytes of `value`. */
export function encodeUtf8(value: string): Uint8Array {
  return TEXT_ENCODER.encode(value);
}
