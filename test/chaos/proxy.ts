/**
 * A loopback TCP fault proxy for the chaos harness. It listens on
 * 127.0.0.1:`port` and forwards every connection to `target`. Each
 * connection is classified by the Kafka client id of its first request
 * (`broker-2` = broker 2's coordinator link, `replica-1` = broker 1's
 * follower fetcher, `coordinator` = the coordinator's pushes), and a rule
 * decides, per chunk, what happens to it:
 *
 * - `pass`: forwarded;
 * - `delay`: forwarded `delayMs` later (order kept);
 * - `drop`: black-holed both ways (like an iptables DROP: the peer sees
 *   nothing and times out); new connections are accepted and black-holed;
 * - `sever`: closed at once (like a RST), new ones closed on arrival.
 *
 * `sever(filter)` closes the matching open connections once, whatever the rule.
 * @module
 */

/** What happens to a connection's bytes. */
export type ProxyMode =
  | { kind: "pass" }
  | { kind: "delay"; delayMs: number }
  | { kind: "drop" }
  | { kind: "sever" };

/** What a rule knows about a connection. */
export interface ProxyConnInfo {
  /** Client id of its first request; null before it arrived or when it had none. */
  clientId: string | null;
  /** Sequence number of the connection on this proxy. */
  id: number;
}

/** Decides each connection's mode (evaluated for every chunk). */
export type ProxyRule = (conn: ProxyConnInfo) => ProxyMode;

/** A running proxy. */
export interface FaultProxy {
  readonly port: number;
  /** Replaces the rule (applies to open connections at once). */
  setRule(rule: ProxyRule): void;
  /** Closes the open connections `filter` matches (default all). */
  sever(filter?: (conn: ProxyConnInfo) => boolean): number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Passes everything. */
export const PASS: ProxyRule = () => ({ kind: "pass" });

/** Reads the client id from the start of a Kafka request frame; undefined until complete. */
export function clientIdOf(head: Uint8Array): string | null | undefined {
  // size int32, api_key int16, api_version int16, correlation_id int32, client_id nullable string
  if (head.length < 14) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const length = view.getInt16(12);
  if (length < 0) return null;
  if (head.length < 14 + length) return undefined;
  return new TextDecoder().decode(head.subarray(14, 14 + length));
}

/** Starts a proxy on 127.0.0.1:`port` (0: any) forwarding to `target`. */
export function startFaultProxy(
  options: { port?: number; target: { hostname: string; port: number }; rule?: ProxyRule },
): FaultProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  let rule = options.rule ?? PASS;
  let accepted = 0;
  const open = new Set<{ info: ProxyConnInfo; close: () => void }>();
  const tasks = new Set<Promise<void>>();

  const handle = async (inbound: Deno.Conn, id: number) => {
    const info: ProxyConnInfo = { clientId: null, id };
    let closed = false;
    let outbound: Deno.Conn | null = null;
    const close = () => {
      if (closed) return;
      closed = true;
      for (const c of [inbound, outbound]) {
        try {
          c?.close();
        } catch { /* already closed */ }
      }
    };
    const entry = { info, close };
    open.add(entry);
    try {
      if (rule(info).kind === "sever") return;
      outbound = await Deno.connect(options.target).catch(() => null);
      if (!outbound) return;
      let head = new Uint8Array(0);
      let classified = false;
      const pump = async (from: Deno.Conn, to: Deno.Conn, upstream: boolean) => {
        const buf = new Uint8Array(64 * 1024);
        let chain = Promise.resolve();
        while (!closed) {
          const n = await from.read(buf).catch(() => null);
          if (n === null) break;
          const chunk = buf.slice(0, n);
          if (upstream && !classified) {
            const joined = new Uint8Array(head.length + n);
            joined.set(head);
            joined.set(chunk, head.length);
            head = joined;
            const clientId = clientIdOf(head);
            if (clientId !== undefined || head.length > 4096) {
              info.clientId = clientId ?? null;
              classified = true;
            }
          }
          const mode = rule(info);
          if (mode.kind === "sever") break;
          if (mode.kind === "drop") continue;
          const write = async () => {
            if (mode.kind === "delay") await new Promise((r) => setTimeout(r, mode.delayMs));
            if (closed) return;
            let off = 0;
            while (off < chunk.length) off += await to.write(chunk.subarray(off));
          };
          chain = chain.then(write).catch(() => close());
          if (mode.kind !== "delay") await chain;
        }
        await chain;
        close();
      };
      await Promise.all([pump(inbound, outbound, true), pump(outbound, inbound, false)]);
    } finally {
      close();
      open.delete(entry);
    }
  };

  const acceptLoop = (async () => {
    for (;;) {
      const conn = await listener.accept().catch(() => null);
      if (conn === null) return;
      const task = handle(conn, accepted++);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })();

  return {
    port: (listener.addr as Deno.NetAddr).port,
    setRule(next) {
      rule = next;
      for (const c of [...open]) if (next(c.info).kind === "sever") c.close();
    },
    sever(filter = () => true) {
      let n = 0;
      for (const c of [...open]) {
        if (filter(c.info)) {
          c.close();
          n++;
        }
      }
      return n;
    },
    connections: () => accepted,
    async close() {
      try {
        listener.close();
      } catch { /* closed */ }
      await acceptLoop;
      for (const c of [...open]) c.close();
      await Promise.all([...tasks]);
    },
  };
}
