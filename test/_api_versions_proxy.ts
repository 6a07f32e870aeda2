/**
 * A loopback TCP proxy in front of one broker that passes every byte through
 * unchanged except ApiVersions answers, in which it widens Produce's minimum
 * version to 0. Used by tests only.
 *
 * Why: librdkafka (kcat) up to at least 2.0.2 compresses with gzip, snappy or
 * lz4 only when the broker's Produce range includes v0 (its
 * `compr_req[...].ApiVersion` check); our brokers advertise Produce v3+ (like
 * Kafka 4.0), so kcat silently sends those codecs uncompressed. Behind this
 * proxy, kcat believes the broker is a Kafka 3.x and really compresses — it
 * still picks Produce v3+ (record batches), which the broker serves.
 * Brokers advertise the proxy's ports with `broker.advertised_base_port`.
 * @module
 */

const API_VERSIONS = 18;
const PRODUCE = 0;
/** Largest frame the proxy accepts (a Fetch answer in these tests is far smaller). */
const FRAME_BYTES_MAX = 64 * 1024 * 1024;

/** A running proxy. */
export interface ApiVersionsProxy {
  /** ApiVersions answers patched so far. */
  patched(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function readUvarint(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const byte = b[at++];
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) return [value >>> 0, at];
  }
  throw new Error("uvarint too long");
}

/**
 * Sets Produce's minimum version to 0 in an ApiVersions response frame body
 * (after the length prefix) of request `version`; true when it found it.
 */
export function widenProduceMin(body: Uint8Array, version: number): boolean {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 4 + 2; // correlation id (header v0 always), error code
  let count: number;
  if (version >= 3) {
    [count, at] = readUvarint(body, at);
    count -= 1;
  } else {
    count = view.getInt32(at);
    at += 4;
  }
  for (let i = 0; i < count && at + 6 <= body.length; i++) {
    if (view.getInt16(at) === PRODUCE) {
      view.setInt16(at + 2, 0);
      return true;
    }
    at += 6;
    if (version >= 3) {
      let tags: number;
      [tags, at] = readUvarint(body, at);
      for (let t = 0; t < tags; t++) {
        let size: number;
        [, at] = readUvarint(body, at);
        [size, at] = readUvarint(body, at);
        at += size;
      }
    }
  }
  return false;
}

/** Splits a byte stream into length-prefixed frames. */
class Framer {
  #buf = new Uint8Array(0);

  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buf.length + chunk.length);
    joined.set(this.#buf);
    joined.set(chunk, this.#buf.length);
    const frames: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const len = new DataView(joined.buffer, at, 4).getInt32(0);
      if (len < 0 || len > FRAME_BYTES_MAX) throw new Error(`bad frame length ${len}`);
      if (joined.length - at - 4 < len) break;
      frames.push(joined.subarray(at, at + 4 + len));
      at += 4 + len;
    }
    this.#buf = joined.slice(at);
    return frames;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** Starts a proxy on 127.0.0.1:`port` in front of 127.0.0.1:`targetPort`. */
export function startApiVersionsProxy(port: number, targetPort: number): ApiVersionsProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const conns = new Set<Deno.Conn>();
  const pumps = new Set<Promise<void>>();
  let patched = 0;

  const serve = async (client: Deno.Conn) => {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      client.close();
      return;
    }
    conns.add(client);
    conns.add(upstream);
    const apiVersionsRequests = new Map<number, number>(); // correlation id → version
    const close = () => {
      for (const c of [client, upstream]) {
        if (conns.delete(c)) {
          try {
            c.close();
          } catch { /* already closed */ }
        }
      }
    };
    const pump = async (from: Deno.Conn, to: Deno.Conn, requests: boolean) => {
      const framer = new Framer();
      try {
        for await (const chunk of from.readable) {
          for (const frame of framer.push(chunk)) {
            const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
            if (requests) {
              if (frame.length >= 12 && view.getInt16(4) === API_VERSIONS) {
                apiVersionsRequests.set(view.getInt32(8), view.getInt16(6));
              }
            } else if (frame.length >= 8) {
              const version = apiVersionsRequests.get(view.getInt32(4));
              if (version !== undefined) {
                apiVersionsRequests.delete(view.getInt32(4));
                if (widenProduceMin(frame.subarray(4), version)) patched++;
              }
            }
            await writeAll(to, frame);
          }
        }
      } catch {
        /* either side gone */
      } finally {
        close();
      }
    };
    await Promise.all([pump(client, upstream, true), pump(upstream, client, false)]);
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const p = serve(conn).catch(() => {});
        pumps.add(p);
        p.finally(() => pumps.delete(p));
      }
    } catch { /* listener closed */ }
  })();

  return {
    patched: () => patched,
    async close() {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      conns.clear();
      await accepting;
      await Promise.all([...pumps]);
    },
  };
}
