import { startFuzzCluster } from "./test/fuzz/_cluster.ts";
import { ROOT } from "./test/_cluster.ts";

async function runFor(ms: number, workers: number, work: () => Promise<number>) {
  const deadline = Date.now() + ms;
  let count = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: workers }, async () => {
    while (Date.now() < deadline) { const d = await work(); count += d; }
  }));
  return count / ((performance.now() - started) / 1000);
}
async function post(base: string, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`status ${res.status}`);
}
Deno.test({ name: "ab", sanitizeOps: false, sanitizeResources: false, async fn() {
  const c = await startFuzzCluster(22960, { brokers: 2 });
  const dir = await Deno.makeTempDir({ prefix: "gwl-ab-" });
  const sock = `${dir}/w.sock`;
  const boot = [`127.0.0.1:${c.ports.coordinator}`, ...c.brokerAddresses].join(",");
  const spawn = (port: number, front: boolean) => new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-net", "--allow-read", "--allow-write", `${ROOT}/gateway/main_writer.ts`,
      "--port", String(port), "--bootstrap", boot, "--ignore-stdin", ...(front ? ["--socket", sock] : [])],
    stdout: "null", stderr: "null", stdin: "null",
  }).spawn();
  const gws = [spawn(22990, true), spawn(22991, false)];
  try {
    await new Promise((r) => setTimeout(r, 2500));
    const front = "http://127.0.0.1:22990", direct = "http://127.0.0.1:22991";
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      const r = await fetch(`${front}/api/v1/topics`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "ab", partitions: 4 }) });
      await r.body?.cancel(); ok = r.status === 201 || r.status === 409;
      if (!ok) await new Promise((r) => setTimeout(r, 200));
    }
    for (const base of [front, direct]) await runFor(800, 8, async () => { await post(base, "/api/v1/messages", { topic: "ab", value: 1 }); return 1; });
    const batch = { topic: "ab", messages: Array.from({ length: 100 }, (_, n) => ({ value: { n } })) };
    const res: Record<string, number[]> = { "single front": [], "single direct": [], "batch front": [], "batch direct": [] };
    for (let round = 0; round < 4; round++) {
      const order = round % 2 === 0 ? [["front", front], ["direct", direct]] : [["direct", direct], ["front", front]];
      for (const [name, base] of order) {
        res[`single ${name}`].push(Math.round(await runFor(2000, 8, async () => { await post(base, "/api/v1/messages", { topic: "ab", value: { n: 1 } }); return 1; })));
      }
      for (const [name, base] of order) {
        res[`batch ${name}`].push(Math.round(await runFor(2000, 4, async () => { await post(base, "/api/v1/messages/batch", batch); return 100; })));
      }
    }
    for (const [k, v] of Object.entries(res)) {
      const s = [...v].sort((a, b) => a - b);
      console.log(`RESULT ${k}: runs ${v.join(" ")} median ${(s[1] + s[2]) / 2}`);
    }
  } finally {
    for (const g of gws) { try { g.kill("SIGTERM"); } catch { /**/ } await g.status; }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await c.stop();
  }
}});
