/**
 * The coordinator console as other components speak to it: the framed
 * dialect (ConsoleCommand, API 1100), a one-line client, line syntax, and
 * the shapes of the answers. The console itself (commands, backend, REPL,
 * TCP server) lives in `coordinator/console/`.
 * @module
 */
export * from "./answers.ts";
export * from "./client.ts";
export * from "./wire.ts";
export * from "./words.ts";
