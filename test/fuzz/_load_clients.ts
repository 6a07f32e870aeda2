/**
 * The hostile half of the idle-load test, run as its own process so it can
 * have its own open-files limit (`sh -c 'ulimit -n N && exec deno run …'`):
 * opens `--idle` connections that send nothing and `--slow` connections
 * that each declare a 100 MB frame and then trickle one byte a second, to
 * 127.0.0.1:`--port`. Prints one JSON line when all are open, then one when
 * `--duration-ms` has passed (or stdin closes): how many of each the broker
 * closed, and after how long.
 *
 *     deno run --allow-net=127.0.0.1 test/fuzz/_load_clients.ts --port 9092 --idle 1000 --slow 200
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    idle: { type: "string", default: "1000" },
    slow: { type: "string", default: "200" },
    "duration-ms": { type: "string", default: "20000" },
  },
});
const port = Number(values.port);
const idleCount = Number(values.idle);
const slowCount = Number(values.slow);
const durationMs = Number(values["duration-ms"]);
const stop = new AbortController();

interface Held {
  conn: Deno.TcpConn;
  /** When it was opened (and, for a slow one, its 100 MB header sent). */
  openedAtMs: number;
  /** How long after opening the server closed it, or null. */
  closedAfterMs: number | null;
}

/** Waits for the server to close `held` (a read returning null or failing). */
async function watch(held: Held): Promise<void> {
  const buf = new Uint8Array(1024);
  try {
    while (!stop.signal.aborted) {
      const n = await held.conn.read(buf);
      if (n === null) break;
    }
  } catch { /* reset, or closed by us at the end */ }
  if (!stop.signal.aborted) held.closedAfterMs = Math.round(performance.now() - held.openedAtMs);
}

async function open(): Promise<Held> {
  for (let attempt = 0;; attempt++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      return { conn, openedAtMs: performance.now(), closedAfterMs: null };
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const idle: Held[] = [];
const slow: Held[] = [];
const watchers: Promise<void>[] = [];
for (let i = 0; i < idleCount; i++) {
  const held = await open();
  idle.push(held);
  watchers.push(watch(held));
}
const header = new Uint8Array(4);
new DataView(header.buffer).setInt32(0, 100 * 1024 * 1024);
for (let i = 0; i < slowCount; i++) {
  const held = await open();
  await held.conn.write(header);
  slow.push(held);
  watchers.push(watch(held));
}
console.log(JSON.stringify({ ready: true, idle: idle.length, slow: slow.length }));

// One byte a second on every slow connection that is still open.
const trickle = setInterval(() => {
  for (const held of slow) {
    if (held.closedAfterMs !== null) continue;
    held.conn.write(new Uint8Array([0x41])).catch(() => {});
  }
}, 1_000);
const stdinClosed = (async () => {
  for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
})();
await Promise.race([new Promise((r) => setTimeout(r, durationMs)), stdinClosed]);
clearInterval(trickle);
const closedAfter = (list: Held[]) =>
  list.map((h) => h.closedAfterMs).filter((ms): ms is number => ms !== null);
const report = {
  done: true,
  idleOpen: idle.filter((h) => h.closedAfterMs === null).length,
  idleClosedAfterMs: closedAfter(idle),
  slowOpen: slow.filter((h) => h.closedAfterMs === null).length,
  slowClosedAfterMs: closedAfter(slow),
};
console.log(JSON.stringify(report));
stop.abort();
for (const held of [...idle, ...slow]) {
  try {
    held.conn.close();
  } catch { /* closed */ }
}
await Promise.allSettled(watchers);
Deno.exit(0);
