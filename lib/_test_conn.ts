/**
 * Test helpers for raw loopback connections to a listener under limits:
 * how long until the peer closes a connection, reading until a marker, an
 * idle connection, and trickling bytes one at a time. Used by the limits
 * tests of `lib`, the gateways' TCP front and the integration tests (lib
 * tests cannot import from `test/`, so this lives here).
 * @module
 */

const HOST = "127.0.0.1";

/** One read of `conn` into `buf`, or "wait" at `deadline`; null when the peer closed. */
async function readBefore(
  conn: Deno.Conn,
  buf: Uint8Array,
  deadline: number,
): Promise<number | null | "wait"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const n = await Promise.race([
    conn.read(buf).catch(() => null),
    new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), deadline - Date.now())),
  ]);
  clearTimeout(timer);
  return n;
}

/** Milliseconds until the peer closes `conn` (reading and dropping what it sends), or null by `timeoutMs`. */
export async function msUntilClosed(conn: Deno.Conn, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  const buf = new Uint8Array(64 * 1024);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await readBefore(conn, buf, deadline) === null) return performance.now() - started;
  }
  return null;
}

/** Reads until `conn` has sent `marker` (or closes, or `timeoutMs`); returns the text. */
export async function readUntil(
  conn: Deno.Conn,
  marker: string,
  timeoutMs = 5_000,
): Promise<string> {
  const buf = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!text.includes(marker) && Date.now() < deadline) {
    const n = await readBefore(conn, buf, deadline);
    if (n === null) break;
    if (n !== "wait") text += decoder.decode(buf.subarray(0, n));
  }
  return text;
}

/** Connects to `port` on loopback and sends nothing; ms until the peer closes it, or null. */
export async function msUntilIdleClosed(port: number, timeoutMs = 10_000): Promise<number | null> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    return await msUntilClosed(conn, timeoutMs);
  } finally {
    conn.close();
  }
}

/** A running {@linkcode trickle}. */
export interface Trickle {
  /** How many bytes have been written so far. */
  sent(): number;
  stop(): void;
}

/** Writes `bytes` to `conn` one byte every `everyMs` (write errors ignored) until all are out or `stop()`. */
export function trickle(conn: Deno.Conn, bytes: Uint8Array, everyMs: number): Trickle {
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < bytes.length) conn.write(bytes.subarray(sent, ++sent)).catch(() => {});
  }, everyMs);
  return { sent: () => sent, stop: () => clearInterval(timer) };
}
