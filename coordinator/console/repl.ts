/**
 * The console on the coordinator's terminal: `node:readline` with a prompt,
 * tab completion from the command table and the cluster (topic names, broker
 * ids), and a history that persists to a file, bounded to
 * {@linkcode HISTORY_LINES_MAX} lines.
 *
 * Lines are run one at a time, in order: a `broker restart 1` finishes before
 * the next line starts. A bad line prints `error: NAME: message` and the
 * console carries on. `quit` here (unlike over TCP) shuts the cluster down;
 * end of input only closes the console, so a coordinator started with stdin
 * at /dev/null keeps running.
 * @module
 */
import { createInterface } from "node:readline";
import { createLogger, type Logger } from "@kafka-analog/lib/log";
import type { ConsoleBackend } from "./backend.ts";
import {
  completeLine,
  executeCommand,
  formatError,
  parseCommand,
  refreshGroupNames,
} from "./commands.ts";

/** The prompt shown before each command, on the terminal and over TCP. */
export const PROMPT = "kafka-analog> ";
/** History lines kept in memory and in the history file. */
export const HISTORY_LINES_MAX = 1000;

/** Options for {@linkcode startRepl}. */
export interface ReplOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where history is loaded from and saved to; none when null or absent. */
  historyFile?: string | null;
  /** Terminal mode (line editing, arrows, completion); defaults to whether `output` is a TTY. */
  terminal?: boolean;
  logger?: Logger;
}

/** A running console. */
export interface Repl {
  /** Closes the console (not the cluster). */
  close(): void;
  /** Resolves once the console is closed, the last command has finished and history is saved. */
  closed: Promise<void>;
}

/** Reads a history file (oldest line first); a missing file is an empty history. */
export async function loadHistory(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return text.split("\n").map((line) => line.trimEnd()).filter((line) => line !== "")
    .slice(-HISTORY_LINES_MAX);
}

/** Starts the console on `input`/`output`; see the module doc. */
export function startRepl(backend: ConsoleBackend, options: ReplOptions): Repl {
  const logger = options.logger ?? createLogger("console");
  // Group names complete from a cached list: fetch it once now so the first Tab has it.
  void refreshGroupNames(backend);
  const historyFile = options.historyFile ?? null;
  const output = options.output;
  const history: string[] = [];
  const queue: string[] = [];
  let processing = false;
  let closing = false;
  let loaded!: () => void;
  // Saves wait for the load, so a line typed early does not overwrite the old history.
  let saving = new Promise<void>((resolve) => (loaded = resolve));
  let saveFailed = false;
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  let inputClosed = false;

  const rl = createInterface({
    input: options.input,
    output,
    prompt: PROMPT,
    terminal: options.terminal,
    historySize: HISTORY_LINES_MAX,
    completer: (line: string) => completeLine(line, backend),
  });
  const rlHistory = (rl as unknown as { history?: string[] }).history;

  function write(text: string): void {
    try {
      output.write(text);
    } catch (err) {
      logger.warn("console output failed", { err });
    }
  }

  function remember(line: string): void {
    if (history.at(-1) === line) return;
    history.push(line);
    if (history.length > HISTORY_LINES_MAX) history.splice(0, history.length - HISTORY_LINES_MAX);
    if (historyFile === null) return;
    saving = saving.then(async () => {
      try {
        await Deno.writeTextFile(historyFile, history.join("\n") + "\n");
      } catch (err) {
        if (!saveFailed) logger.warn("cannot save console history", { historyFile, err });
        saveFailed = true;
      }
    });
  }

  async function run(line: string): Promise<void> {
    const trimmed = line.trim();
    if (trimmed === "") return;
    remember(trimmed);
    let result;
    try {
      result = await executeCommand(parseCommand(trimmed), backend);
    } catch (err) {
      write(`${formatError(err)}\n`);
      return;
    }
    write(`${result.text}\n`);
    if (result.quit) {
      closing = true;
      rl.close();
      try {
        await backend.shutdown();
      } catch (err) {
        write(`${formatError(err)}\n`);
      }
    }
  }

  async function drain(): Promise<void> {
    if (processing) return;
    processing = true;
    try {
      while (queue.length > 0 && !closing) {
        await run(queue.shift()!);
        if (!closing && !inputClosed) {
          rl.resume();
          rl.prompt();
        }
      }
    } finally {
      processing = false;
      queue.length = 0;
      if (inputClosed) finish();
    }
  }

  function finish(): void {
    saving.then(() => done());
  }

  rl.on("line", (line: string) => {
    if (closing) return;
    queue.push(line);
    // Hold further input while a command runs, so lines are not read far ahead of their answers.
    rl.pause();
    void drain();
  });
  rl.on("SIGINT", () => {
    if (rl.line !== "") {
      rl.write("", { ctrl: true, name: "e" });
      write("^C\n");
      rl.write("", { ctrl: true, name: "u" });
      return;
    }
    write("\n(type 'quit' to stop the cluster)\n");
    rl.prompt();
  });
  rl.on("close", () => {
    // End of input (Ctrl-D) leaves the cursor after the prompt; end the line.
    if (!closing && rl.terminal) write("\n");
    inputClosed = true;
    if (!processing) finish();
  });

  void (async () => {
    if (historyFile !== null) {
      try {
        const old = await loadHistory(historyFile);
        // Lines typed while loading are newer than the file's.
        history.unshift(...old);
        history.splice(0, Math.max(0, history.length - HISTORY_LINES_MAX));
        // readline keeps its history newest first.
        if (rlHistory !== undefined) {
          rlHistory.push(...[...old].reverse());
          rlHistory.splice(HISTORY_LINES_MAX);
        }
      } catch (err) {
        logger.warn("cannot load console history", { historyFile, err });
      }
    }
    loaded();
  })();
  rl.prompt();

  return {
    close(): void {
      closing = true;
      rl.close();
    },
    closed,
  };
}
