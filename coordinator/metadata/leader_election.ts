/**
 * Choosing a partition's leader (SPEC §4): the next in-sync replica after
 * the current leader, round-robin over the replica list, among live
 * brokers. Only an in-sync replica may lead unless unclean election is
 * enabled for the topic (`unclean.leader.election.enable=true`), which may
 * lose acknowledged data and says so in the log.
 * @module
 */
import type { PartitionState } from "@kafka-analog/lib/cluster";

/** Options for {@linkcode electLeader}. */
export interface ElectionOptions {
  /** Brokers that can take leadership now. */
  live: ReadonlySet<number>;
  /** A broker that must not be chosen (being shut down). */
  avoid?: number;
  /** Allow an out-of-sync replica when no in-sync one is live. */
  unclean?: boolean;
}

/** The chosen leader, or −1 when none may lead; `unclean` when it was not in sync. */
export function electLeader(
  p: PartitionState,
  options: ElectionOptions,
): { leader: number; unclean: boolean } {
  const n = p.replicas.length;
  const start = Math.max(p.replicas.indexOf(p.leader), 0);
  const candidates = Array.from({ length: n }, (_, i) => p.replicas[(start + 1 + i) % n])
    .filter((id) => id !== options.avoid && options.live.has(id));
  const clean = candidates.find((id) => p.isr.includes(id));
  if (clean !== undefined) return { leader: clean, unclean: false };
  if (options.unclean && candidates.length > 0) return { leader: candidates[0], unclean: true };
  return { leader: -1, unclean: false };
}

/** The partition after `brokerId` is gone: a new leader if it led, and out of the ISR (never emptying it). */
export function withoutBroker(
  p: PartitionState,
  brokerId: number,
  options: ElectionOptions,
): PartitionState | null {
  const isrWithout = p.isr.filter((id) => id !== brokerId);
  if (p.leader === brokerId) {
    const { leader } = electLeader(p, { ...options, avoid: brokerId });
    if (leader < 0) {
      // Nobody in sync can lead: the partition goes offline, keeping its last ISR so the
      // last in-sync replica can lead again when it returns (no unclean election).
      return {
        ...p,
        leader: -1,
        leaderEpoch: p.leaderEpoch + 1,
        isr: p.isr.length > 0 ? p.isr : [brokerId],
      };
    }
    // An unclean leader starts a new history: only it is in sync with it.
    const isr = isrWithout.includes(leader) ? isrWithout : [leader];
    return {
      ...p,
      leader,
      leaderEpoch: p.leaderEpoch + 1,
      isr: p.replicas.filter((id) => isr.includes(id)),
    };
  }
  if (p.isr.includes(brokerId) && isrWithout.length > 0) return { ...p, isr: isrWithout };
  return null;
}
