/**
 * Runs the shared PartitionLog conformance cases against the memory log.
 * @module
 */
import { runLogCases } from "./_log_cases.ts";
import { MemoryLog } from "./memory_log.ts";

runLogCases("MemoryLog", () => new MemoryLog());
