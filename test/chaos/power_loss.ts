/**
 * A simulated power loss for disk mode. SIGKILL alone loses nothing the
 * broker wrote (the OS page cache survives the process); a power loss loses
 * whatever was not fsynced. The broker does not record how far each segment
 * was fsynced (by default `flush.messages`/`flush.ms` are off and durability
 * comes from replication, like Kafka), so this approximates it: after the
 * SIGKILL, the active (last) segment of every partition is cut at a random
 * point within its last `maxBytes` bytes — usually mid-batch, a torn write —
 * while its index, time index, leader-epoch and high-watermark checkpoints
 * are left as they were (they may now point past the end). That is at least
 * as hostile as a real power loss of the unsynced tail for the recovery code,
 * though a real one could lose more than `maxBytes`.
 * @module
 */

/** Options for {@linkcode powerLoss}. */
export interface PowerLossOptions {
  /** The killed broker's PID: waited for until it is gone. */
  pid: number;
  /** `<data_dir>/broker-N`. */
  brokerDir: string;
  random: () => number;
  /** Largest tail cut per partition (default 64 KiB). */
  maxBytes?: number;
}

function alive(pid: number): boolean {
  const { success, stdout } = new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return success && !/^\d+ \(.*\) Z/.test(new TextDecoder().decode(stdout));
}

/** Waits for the process to die, then cuts every partition's active segment; says what it cut. */
export async function powerLoss(options: PowerLossOptions): Promise<string> {
  for (let i = 0; i < 100 && alive(options.pid); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const maxBytes = options.maxBytes ?? 65_536;
  const cuts: string[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(options.brokerDir)];
  } catch {
    return "no data directory";
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory) continue;
    const dir = `${options.brokerDir}/${entry.name}`;
    const logs = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".log"))
      .map((e) => e.name).sort();
    const active = logs.at(-1);
    if (!active) continue;
    const path = `${dir}/${active}`;
    const size = Deno.statSync(path).size;
    if (size === 0) continue;
    const cut = 1 + Math.floor(options.random() * Math.min(size, maxBytes));
    Deno.truncateSync(path, size - cut);
    cuts.push(`${entry.name} −${cut} B`);
  }
  return cuts.length === 0 ? "nothing to cut" : cuts.join(", ");
}
