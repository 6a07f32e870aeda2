/**
 * A `connect` for the client library that cuts its own connections on
 * purpose: after every `cutEveryBytes` bytes of Produce requests written, the
 * connection stops delivering what it reads (so the answer to the request
 * just sent is lost even though the broker processed it) and is closed
 * `closeAfterMs` later. The client sees a lost connection and retries: with
 * idempotence the broker drops the duplicate, without it the retry is
 * written twice. Used by tests only.
 * @module
 */
import type { Connector } from "@kafka-analog/lib/net";

/** Options for {@linkcode cuttingConnector}. */
export interface CutOptions {
  /** Cut after this many bytes of Produce frames (counted over all connections). */
  cutEveryBytes: number;
  /** Stop cutting after this many cuts (default unlimited). */
  cutsMax?: number;
  /** Delay between the cut and closing the socket (default 30 ms): time for the broker to append. */
  closeAfterMs?: number;
}

/** A cutting connector and its cut count. */
export interface CuttingConnector {
  connect: Connector;
  cuts(): number;
}

const PRODUCE_API_KEY = 0;

/** Wraps Deno.connect so Produce connections are cut after every `cutEveryBytes` bytes. */
export function cuttingConnector(options: CutOptions): CuttingConnector {
  let produceBytes = 0;
  let nextCut = options.cutEveryBytes;
  let cuts = 0;
  const cutsMax = options.cutsMax ?? Infinity;
  const closeAfterMs = options.closeAfterMs ?? 30;
  const connect: Connector = async (address) => {
    const conn = await Deno.connect(address);
    let cutting = false;
    let closed = false;
    let markClosed: () => void;
    const whenClosed = new Promise<void>((resolve) => (markClosed = resolve));
    const close = () => {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
      markClosed();
    };
    const wrapper = {
      get remoteAddr() {
        return conn.remoteAddr;
      },
      get localAddr() {
        return conn.localAddr;
      },
      setNoDelay: (noDelay?: boolean) => conn.setNoDelay(noDelay),
      setKeepAlive: (keepAlive?: boolean) => conn.setKeepAlive(keepAlive),
      async write(p: Uint8Array): Promise<number> {
        if (cutting || closed) throw new Deno.errors.BrokenPipe("connection cut by the test");
        const isProduce = p.length >= 6 &&
          new DataView(p.buffer, p.byteOffset, p.byteLength).getInt16(4) === PRODUCE_API_KEY;
        const n = await conn.write(p);
        if (isProduce) {
          produceBytes += n;
          if (produceBytes >= nextCut && cuts < cutsMax) {
            nextCut = produceBytes + options.cutEveryBytes;
            cuts++;
            cutting = true;
            setTimeout(close, closeAfterMs);
          }
        }
        return n;
      },
      async read(p: Uint8Array): Promise<number | null> {
        if (closed) return null;
        const n = await Promise.race([conn.read(p).catch(() => null), whenClosed.then(() => null)]);
        if (cutting) {
          await whenClosed; // drop whatever arrived after the cut
          return null;
        }
        return n;
      },
      close,
    };
    return wrapper as unknown as Deno.TcpConn;
  };
  return { connect, cuts: () => cuts };
}
