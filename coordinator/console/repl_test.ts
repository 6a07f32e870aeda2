/**
 * Tests of the terminal console over in-memory streams: prompt, answers,
 * errors, `quit`, end of input, and the history file.
 * @module
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { createFakeBackend } from "./_fake_backend.ts";
import { HISTORY_LINES_MAX, loadHistory, PROMPT, startRepl } from "./repl.ts";

const WAIT_MS_MAX = 5000;

function harness(historyFile: string | null = null) {
  const backend = createFakeBackend();
  const input = new PassThrough();
  const output = new PassThrough();
  let text = "";
  output.on("data", (chunk: Uint8Array) => (text += new TextDecoder().decode(chunk)));
  const repl = startRepl(backend, { input, output, historyFile, terminal: false });
  async function waitFor(predicate: (text: string) => boolean): Promise<void> {
    const deadline = Date.now() + WAIT_MS_MAX;
    while (!predicate(text)) {
      if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return { backend, input, repl, output: () => text, waitFor };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

Deno.test("startRepl() prompts, answers, reports errors and carries on", async () => {
  const h = harness();
  await h.waitFor((t) => t === PROMPT);
  h.input.write("status\n");
  await h.waitFor((t) => count(t, PROMPT) === 2);
  assert.match(h.output(), /coordinator\s*│\s*0\s*│\s*100/);
  h.input.write("broker stop 9\nbroker sto 1\n\nbroker stop 1\n");
  await h.waitFor((t) => count(t, PROMPT) === 6);
  assert.ok(h.output().includes("error: UNKNOWN_BROKER: Unknown broker 9\n"));
  assert.ok(h.output().includes("error: INVALID_COMMAND: Unknown subcommand 'sto' for 'broker'"));
  assert.ok(h.output().includes("Broker 1: stopped.\n"));
  assert.deepEqual(h.backend.calls.slice(-2), ["brokerStop 9", "brokerStop 1"]);
  h.input.end();
  await h.repl.closed;
  assert.equal(h.backend.shutDown, false, "end of input does not stop the cluster");
});

Deno.test("startRepl() runs lines one at a time, in order", async () => {
  const h = harness();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const order: string[] = [];
  h.backend.restartAll = async () => {
    order.push("restart begins");
    await gate;
    order.push("restart ends");
  };
  const stop = h.backend.brokerStop;
  h.backend.brokerStop = (id) => {
    order.push(`stop ${id}`);
    return stop(id);
  };
  h.input.write("restart all\nbroker stop 2\n");
  await h.waitFor(() => order.length === 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(order, ["restart begins"]);
  release();
  await h.waitFor(() => order.length === 3);
  assert.deepEqual(order, ["restart begins", "restart ends", "stop 2"]);
  h.repl.close();
  await h.repl.closed;
});

Deno.test("startRepl() quit prints bye, closes and shuts the cluster down", async () => {
  const h = harness();
  h.input.write("quit\nstatus\n");
  await h.repl.closed;
  assert.equal(h.backend.shutDown, true);
  assert.ok(h.output().includes("bye\n"));
  assert.ok(!h.backend.calls.includes("status"), "nothing runs after quit");
});

Deno.test("startRepl() loads, appends and bounds the history file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "console_history_" });
  try {
    const file = `${dir}/history`;
    const old = Array.from({ length: HISTORY_LINES_MAX + 5 }, (_, i) => `topic describe t${i}`);
    await Deno.writeTextFile(file, old.join("\n") + "\n");
    const h = harness(file);
    h.input.write("status\nstatus\n  broker list  \n");
    await h.waitFor((t) => count(t, PROMPT) === 4);
    h.input.end();
    await h.repl.closed;
    const saved = await loadHistory(file);
    assert.equal(saved.length, HISTORY_LINES_MAX);
    assert.deepEqual(saved.slice(-3), ["topic describe t1004", "status", "broker list"]);
    assert.equal(saved[0], "topic describe t7");

    const missing = await loadHistory(`${dir}/none`);
    assert.deepEqual(missing, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
