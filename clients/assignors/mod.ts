/**
 * Client-side partition assignors for consumer groups. As in Kafka, the
 * group's leader computes the plan in its own client (between JoinGroup and
 * SyncGroup) with the strategy every member announced: `range`, `roundrobin`
 * or `sticky`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { assignorByName } from "./mod.ts";
 *
 * const plan = assignorByName("range").assign(
 *   [{ memberId: "C0", topics: ["t0"], owned: [] }, { memberId: "C1", topics: ["t0"], owned: [] }],
 *   new Map([["t0", 3]]),
 * );
 * assert.deepEqual(plan.get("C1"), [{ topic: "t0", partition: 2 }]);
 * ```
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { Assignor } from "./_common.ts";
import { rangeAssignor } from "./range.ts";
import { roundRobinAssignor } from "./round_robin.ts";
import { stickyAssignor } from "./sticky.ts";

export type { Assignor, AssignorMember, AssignorName, TopicPartition } from "./_common.ts";
export { rangeAssignor } from "./range.ts";
export { roundRobinAssignor } from "./round_robin.ts";
export { stickyAssignor } from "./sticky.ts";

/** Every assignor, in the order Kafka lists them. */
export const ASSIGNORS: readonly Assignor[] = Object.freeze([
  rangeAssignor,
  roundRobinAssignor,
  stickyAssignor,
]);

/**
 * The assignor announced as `name` in JoinGroup (`range`, `roundrobin` or
 * `sticky`); any other name is refused with a KaError `INVALID_REQUEST`.
 */
export function assignorByName(name: string): Assignor {
  const assignor = ASSIGNORS.find((candidate) => candidate.name === name);
  if (assignor === undefined) {
    throw KaError.of(
      "INVALID_REQUEST",
      `Cannot find assignor '${name}': expected one of ${ASSIGNORS.map((a) => a.name).join(", ")}`,
    );
  }
  return assignor;
}
