import process from "node:process";
import { startRepl } from "./repl.ts";
import { createFakeBackend } from "./_fake_backend.ts";
const b = createFakeBackend();
const r = startRepl(b, {
  input: process.stdin,
  output: process.stdout,
  historyFile: "/tmp/console_hist_test",
});
await r.closed;
console.log("CLOSED shutdown=" + b.shutDown);
Deno.exit(0);
