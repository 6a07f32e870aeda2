/**
 * `deno task admin [--json] [--host H] [--port P] <command words...>`: runs one
 * console command on a running coordinator over the framed console dialect
 * and prints its answer (text, or with `--json` one JSON document).
 *
 * Exit status: 0 on success, 1 when the command failed or the arguments are
 * bad (the error name and message go to stderr), 2 when the console cannot be
 * reached or does not answer.
 * @module
 */
import { ConsoleConnectionError, quoteWord, sendConsoleLine } from "@kafka-analog/lib/console";
import { loadConfig } from "@kafka-analog/lib/config";
import { KaError } from "@kafka-analog/lib/errors";
import { formatError } from "./console/commands.ts";

/** How long to wait for an answer: `restart all` restarts every process one at a time. */
export const DEFAULT_TIMEOUT_MS = 300_000;

const USAGE = "usage: deno task admin [--json] [--host H] [--port P] [--timeout-ms N] " +
  "[--config FILE] [--section.key V] <command words...>\n" +
  "       deno task admin help    lists the console commands";

/** What {@linkcode runAdmin} prints to and connects with. */
export interface AdminIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads config.yaml for the default host and port; defaults to `Deno.readTextFile`. */
  readTextFile?(path: string): Promise<string>;
  /** Opens the TCP connection; defaults to `Deno.connect`. */
  connect?(options: { hostname: string; port: number }): Promise<Deno.Conn>;
}

/** Parsed command line of the admin tool. */
export interface AdminArgs {
  json: boolean;
  help: boolean;
  host?: string;
  port?: number;
  timeoutMs: number;
  /** `--config FILE` and `--section.key VALUE` flags, for `loadConfig`. */
  configArgs: string[];
  /** The console command, one word per element. */
  words: string[];
}

class UsageError extends Error {}

function parsePositiveInteger(flag: string, text: string, max: number): number {
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(
      `Invalid value for '${flag}': '${text}' is not an integer from 1 to ${max}`,
    );
  }
  return value;
}

/**
 * Parses the admin command line. Options come before the command words, so
 * `topic create t --config k=v` keeps its `--config` for the command; `--json`
 * is also accepted anywhere, as no console command has such an option.
 * `--config FILE` and `--section.key VALUE` before the words choose the
 * config the default host and port come from.
 */
export function parseAdminArgs(args: readonly string[]): AdminArgs {
  const parsed: AdminArgs = {
    json: false,
    help: false,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    configArgs: [],
    words: [],
  };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-")) break;
    if (arg === "--") {
      i++;
      break;
    }
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const takeValue = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) throw new UsageError(`Missing value for '${flag}'`);
      return args[++i];
    };
    if (flag === "--json" && eq < 0) parsed.json = true;
    else if ((flag === "--help" || flag === "-h") && eq < 0) parsed.help = true;
    else if (flag === "--host") parsed.host = takeValue();
    else if (flag === "--port") parsed.port = parsePositiveInteger(flag, takeValue(), 65_535);
    else if (flag === "--timeout-ms") {
      parsed.timeoutMs = parsePositiveInteger(flag, takeValue(), 86_400_000);
    } else if (flag === "--config" || (flag.startsWith("--") && flag.includes("."))) {
      parsed.configArgs.push(flag, takeValue());
    } else {
      throw new UsageError(`Unknown option '${arg}'`);
    }
  }
  for (const word of args.slice(i)) {
    if (word === "--json") parsed.json = true;
    else parsed.words.push(word);
  }
  if (parsed.host === "") throw new UsageError("Invalid value for '--host': empty");
  return parsed;
}

/** Runs the admin tool; returns the exit status. */
export async function runAdmin(args: readonly string[], io: AdminIo): Promise<number> {
  let parsed: AdminArgs;
  let host: string;
  let port: number;
  try {
    parsed = parseAdminArgs(args);
    if (parsed.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (parsed.words.length === 0) throw new UsageError("Missing command");
    if (parsed.host !== undefined && parsed.port !== undefined) {
      host = parsed.host;
      port = parsed.port;
    } else {
      const readTextFile = io.readTextFile ?? ((path: string) => Deno.readTextFile(path));
      const { config } = await loadConfig(parsed.configArgs, { readTextFile });
      host = parsed.host ?? config.coordinator.host;
      port = parsed.port ?? config.coordinator.consolePort;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: INVALID_COMMAND: ${err.message}\n${USAGE}\n`);
      return 1;
    }
    if (err instanceof KaError) {
      io.stderr(`${formatError(err)}\n`);
      return 1;
    }
    throw err;
  }

  const line = parsed.words.map(quoteWord).join(" ");
  let answer;
  try {
    answer = await sendConsoleLine(line, {
      hostname: host,
      port,
      timeoutMs: parsed.timeoutMs,
      connect: io.connect,
    });
  } catch (err) {
    if (!(err instanceof ConsoleConnectionError)) throw err;
    io.stderr(`${err.message}\n`);
    return 2;
  }
  if (!answer.ok) {
    if (parsed.json) io.stdout(`${JSON.stringify({ ok: false, error: answer.error ?? null })}\n`);
    io.stderr(`${answer.text}\n`);
    return 1;
  }
  io.stdout(parsed.json ? `${JSON.stringify(answer.json, null, 2)}\n` : `${answer.text}\n`);
  return 0;
}

function writeAllSync(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

if (import.meta.main) {
  const code = await runAdmin(Deno.args, {
    stdout: (text) => writeAllSync(Deno.stdout, text),
    stderr: (text) => writeAllSync(Deno.stderr, text),
  });
  Deno.exit(code);
}
