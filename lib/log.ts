/**
 * Structured logs: one JSON object a line on stderr, so a supervisor can
 * prefix and forward them and a human can still read them.
 * @module
 */

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to one component, e.g. `broker-2`. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to `console.error`. */
  sink?: (line: string) => void;
  /** Clock for the `ts` field; defaults to `Date.now`. */
  now?: () => number;
}

/** Creates a logger whose lines carry `component`. */
export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const min = LEVELS[options.level ?? "info"];
  const sink = options.sink ?? ((line: string) => console.error(line));
  const now = options.now ?? Date.now;
  function emit(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS[level] < min) return;
    sink(
      JSON.stringify(
        { ts: new Date(now()).toISOString(), level, component, msg, ...fields },
        replacer,
      ),
    );
  }
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
