/**
 * How the message browser shows a key or value: pure functions from bytes to
 * a {@linkcode PayloadView}, the JSON the page renders as is.
 *
 * - `null` bytes: a null key or a tombstone;
 * - Confluent Avro wire format (magic byte 0, 4-byte schema id, body):
 *   decoded with the writer's schema from the registry, shown as JSON
 *   ({@linkcode viewValue}; the decoding is passed in);
 * - UTF-8 text that parses as JSON: pretty-printed JSON;
 * - other UTF-8 text without control characters: the text;
 * - anything else: a hex dump (offset, 16 bytes, printable ASCII).
 *
 * Only the first `previewBytesMax` bytes are shown; `truncated` says so.
 * @module
 */

/** How one key or value is shown. */
export type PayloadView =
  | { kind: "null" }
  | { kind: "json"; text: string; bytes: number; truncated: boolean }
  | { kind: "text"; text: string; bytes: number; truncated: boolean }
  | { kind: "avro"; schemaId: number; text: string; bytes: number; truncated: boolean }
  | { kind: "binary"; hex: string; bytes: number; truncated: boolean };

const AVRO_MAGIC = 0;
const AVRO_HEADER_BYTES = 5;
const HEX_BYTES_PER_LINE = 16;

/** The schema id of Confluent's Avro wire format, or null when `bytes` is not in it. */
export function avroSchemaIdOf(bytes: Uint8Array): number | null {
  if (bytes.length < AVRO_HEADER_BYTES || bytes[0] !== AVRO_MAGIC) return null;
  const id = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(1);
  return id > 0 ? id : null;
}

/**
 * A hex dump of `bytes`: one line per 16 bytes, `offset  hex bytes  |ascii|`
 * (non-printable bytes as `.`).
 */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += HEX_BYTES_PER_LINE) {
    const row = bytes.subarray(at, at + HEX_BYTES_PER_LINE);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."))
      .join("");
    lines.push(
      `${at.toString(16).padStart(8, "0")}  ${hex.padEnd(HEX_BYTES_PER_LINE * 3 - 1)}  |${ascii}|`,
    );
  }
  return lines.join("\n");
}

/** `text` if it is UTF-8 without control characters (tab and line ends allowed), else null. */
function textOf(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
}

/**
 * The view of `bytes` without Avro decoding: null, JSON, text or hex. Only the
 * first `previewBytesMax` bytes are looked at when the whole does not fit
 * (a cut JSON document is shown as text).
 */
export function viewPayload(
  bytes: Uint8Array | null,
  options: { previewBytesMax: number },
): PayloadView {
  if (bytes === null) return { kind: "null" };
  const truncated = bytes.length > options.previewBytesMax;
  const shown = truncated ? bytes.subarray(0, options.previewBytesMax) : bytes;
  const size = { bytes: bytes.length, truncated };
  let text = textOf(shown);
  if (text === null && truncated) {
    // The cut may have split a multi-byte character: drop up to 3 trailing bytes.
    for (let drop = 1; drop <= 3 && text === null; drop++) {
      text = textOf(shown.subarray(0, shown.length - drop));
    }
  }
  if (text === null) return { kind: "binary", hex: hexDump(shown), ...size };
  if (!truncated && text.trim() !== "") {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(text), null, 2), ...size };
    } catch {
      // Not JSON: plain text.
    }
  }
  return { kind: "text", text, ...size };
}

/**
 * The view of a message value: Avro when the bytes are in Avro's wire format
 * and `decodeAvro` (the registry's decoder) accepts them, else
 * {@linkcode viewPayload}.
 */
export async function viewValue(
  bytes: Uint8Array | null,
  options: { previewBytesMax: number; decodeAvro: (bytes: Uint8Array) => Promise<unknown> },
): Promise<PayloadView> {
  const schemaId = bytes === null ? null : avroSchemaIdOf(bytes);
  if (bytes !== null && schemaId !== null) {
    try {
      const decoded = await options.decodeAvro(bytes);
      const text = JSON.stringify(decoded, jsonSafe, 2);
      const truncated = text.length > options.previewBytesMax;
      return {
        kind: "avro",
        schemaId,
        text: truncated ? text.slice(0, options.previewBytesMax) : text,
        bytes: bytes.length,
        truncated,
      };
    } catch {
      // Not Avro after all (or an unknown schema): show the bytes.
    }
  }
  return viewPayload(bytes, options);
}

/** JSON.stringify replacer for what Avro decoding returns (bigint longs, bytes). */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return hexDump(value);
  return value;
}
