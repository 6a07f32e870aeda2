/**
 * Partition placement: which brokers hold each partition, and which of them leads.
 *
 * The ring: every broker owns `virtualNodes` points at `hash("<brokerId>#<vnode>")`, and key
 * `"<topic>/<p>"` walks clockwise from its hash, taking the first `replicationFactor` distinct
 * brokers ({@linkcode HashRing.replicasFor}). Removing a broker changes only the sets that held
 * it (about `replicationFactor / brokers` of them). But a small topic is only as even as its
 * hashes: at 10 partitions, 5 brokers, replication factor 2, about 28% of topic names leave
 * some broker with at most one replica, and then no leader choice gives every broker 2.
 *
 * So {@linkcode placeTopic} uses consistent hashing with bounded loads (Mirrokni, Thorup and
 * Zadimoghaddam, "Consistent Hashing with Bounded Loads", SODA 2018) with the tightest bound:
 * partitions are placed in order, and each walk skips brokers already in its set and brokers
 * at capacity `ceil(partitions × replicationFactor / brokers)`. With replica sets instead of
 * single keys, a greedy walk can paint itself into a corner (the last partition finds only one
 * broker with room), and a broker can end far below the mean; so a broker is also skipped when
 * taking it would make the rest unplaceable with every broker ending at `floor` or `ceil` of
 * the mean. That check is exact (Gale–Ryser, see `LoadBudget.canComplete`), so the walk never
 * fails and every broker holds `floor` or `ceil` of the mean replica count: exactly 4 each at
 * 10 partitions / 5 brokers / RF 2.
 *
 * Measured cost in stability (1,000 partitions, 5 brokers, each one removed in turn, 20 topic
 * names): the fraction of partitions whose replica set changes is 0.400-0.461 at RF 2, mean
 * 0.423 (ideal 0.400: just the sets that held the removed broker), and 0.600-0.652 at RF 3,
 * mean 0.621 (ideal 0.600). Of the partitions that did not hold the removed broker, 89.8-100%
 * keep their set at RF 2 (mean 96.2%) and 87.0-100% at RF 3 (mean 94.7%). The extra moves
 * come from the bound: the survivors' capacity rises, so walks that skipped a full broker
 * stop earlier and later partitions meet different full brokers. For one 1,000-partition
 * topic, 97% (RF 2) and 96% (RF 3) of sets equal the plain ring's.
 *
 * Leaders are then spread so every broker leads a fair share: a greedy pass gives each
 * partition the replica that leads least so far (ties in round-robin broker order), and a
 * repair pass shifts leadership along alternating paths until no broker leads two or more
 * partitions more than another broker it could hand one to. That is an optimal "semi-matching"
 * (Harvey et al., 2006): it minimises the sum of squared leader counts, so whenever the replica
 * sets allow leader counts that differ by at most 1, the result achieves it. With replica
 * counts at `floor`/`ceil` of the mean they always do (every broker set touches enough
 * partitions and contains few enough, and by Mendelsohn–Dulmage both bounds hold at once), so
 * without `leaderLoad` leader counts differ by at most 1: exactly 2 each for 10 / 5 / RF 2.
 * `leaderLoad` counts leaders a broker already holds in other topics, so fairness is
 * cluster-wide.
 *
 * Hash: 32-bit FNV-1a over the key's UTF-8 bytes, followed by MurmurHash3's `fmix32`
 * finaliser. FNV-1a alone spreads short, similar keys (`3#0`, `3#1`) poorly on the ring; the
 * finaliser avalanches every input bit. Both are fixed, so placement is stable across runs,
 * machines and versions.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";
import { KaError } from "@kafka-analog/lib/errors";
import { PARTITIONS_MAX } from "@kafka-analog/lib/limits";

/** Options for {@linkcode HashRing}. */
export interface RingOptions {
  /** Points each broker owns on the ring; more points spread load more evenly. Default 128. */
  virtualNodes?: number;
}

/** Options for {@linkcode placeTopic}. */
export interface PlaceTopicOptions extends RingOptions {
  /** Leaders each broker already holds in other topics, so leadership stays fair cluster-wide. */
  leaderLoad?: ReadonlyMap<number, number>;
}

/** One partition's placement; `replicas[0]` is the preferred leader. */
export interface PartitionPlacement {
  partition: number;
  replicas: number[];
}

/** Default virtual nodes per broker. */
export const DEFAULT_VIRTUAL_NODES = 128;
/** Most virtual nodes per broker a ring accepts. */
export const VIRTUAL_NODES_MAX = 4096;

const ENCODER = new TextEncoder();

/**
 * The ring's stable 32-bit hash: FNV-1a over the UTF-8 bytes of `text`, then MurmurHash3's
 * `fmix32` finaliser. Returns an unsigned integer in `0..2^32-1`.
 */
export function placementHash(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of ENCODER.encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkBrokerIds(brokerIds: readonly number[]): void {
  const seen = new Set<number>();
  for (const id of brokerIds) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw KaError.of("INVALID_REQUEST", `Invalid broker id ${id}: must be an integer >= 0`);
    }
    if (seen.has(id)) {
      throw KaError.of("INVALID_REQUEST", `Broker id ${id} appears twice in the broker list`);
    }
    seen.add(id);
  }
}

/**
 * Per-broker replica counts for one bounded placement. Every broker must end with `low` or
 * `high` replicas (`high` = `low` + 1 when the total does not divide evenly, else `low`), so
 * the total `keys × count` forces exactly `total mod brokers` brokers up to `high`.
 */
class LoadBudget {
  readonly #used: Int32Array;
  readonly #low: number;
  readonly #high: number;
  readonly #count: number;

  constructor(brokers: number, keys: number, count: number) {
    this.#used = new Int32Array(brokers);
    this.#low = Math.floor((keys * count) / brokers);
    this.#high = (keys * count) % brokers === 0 ? this.#low : this.#low + 1;
    this.#count = count;
  }

  hasRoom(rank: number): boolean {
    return this.#used[rank] < this.#high;
  }

  add(rank: number): void {
    this.#used[rank]++;
  }

  remove(rank: number): void {
    this.#used[rank]--;
  }

  /**
   * Whether the current key can still take `need` more distinct brokers (not `taken`) and
   * the `later` keys after it `count` distinct brokers each, with every broker ending between
   * `low` and `high`. Exact: by Gale–Ryser, the `later` keys can take per-broker amounts `x`
   * iff `x[b] <= later` and `sum(x) = later × count`, so with room `room[b] = high - used[b]`
   * and shortfall `short[b] = max(0, low - used[b])` the rest is feasible iff every
   * `short[b] <= later` and `sum(short) <= later × count <= sum(min(room, later))`. The
   * current key's picks lower a broker's shortfall (good) and possibly its capped room (bad);
   * picking, in order, brokers it must take, then those that only help, then helpful-but-costly
   * ones as far as the shortfall needs, then neutral, then the rest, is optimal.
   */
  canComplete(taken: Uint8Array, need: number, later: number): boolean {
    const demand = later * this.#count;
    let shortSum = 0;
    let roomSum = 0;
    let forced = 0;
    let helps = 0; // shortfall > 0, room above `later`: picking it only helps
    let trades = 0; // shortfall > 0, room <= `later`: helps the shortfall, costs room
    let neutral = 0; // no shortfall, room above `later`
    let costs = 0; // no shortfall, room <= `later`: only costs room
    for (let rank = 0; rank < this.#used.length; rank++) {
      const short = Math.max(0, this.#low - this.#used[rank]);
      const room = this.#high - this.#used[rank];
      shortSum += short;
      roomSum += Math.min(room, later);
      const free = taken[rank] === 0 && room >= 1;
      if (short > later) {
        // Only the current key can take the excess, and only one replica of it.
        if (!free || short > later + 1) return false;
        forced++;
      } else if (!free) continue;
      else if (short > 0) {
        if (room > later) helps++;
        else trades++;
      } else if (room > later) neutral++;
      else costs++;
    }
    let left = need - forced;
    if (left < 0) return false;
    let shortCut = forced;
    let roomCut = 0;
    const takeHelps = Math.min(left, helps);
    shortCut += takeHelps;
    left -= takeHelps;
    const takeTrades = Math.min(left, trades, Math.max(0, shortSum - shortCut - demand));
    shortCut += takeTrades;
    roomCut += takeTrades;
    left -= takeTrades;
    left -= Math.min(left, neutral);
    const moreTrades = Math.min(left, trades - takeTrades);
    shortCut += moreTrades;
    roomCut += moreTrades;
    left -= moreTrades;
    const takeCosts = Math.min(left, costs);
    roomCut += takeCosts;
    left -= takeCosts;
    return left === 0 && shortSum - shortCut <= demand && demand <= roomSum - roomCut;
  }
}

/** A consistent-hash ring of brokers with virtual nodes. Immutable once built. */
export class HashRing {
  readonly #brokerIds: readonly number[];
  /** Ring points sorted by hash (ties by broker id), and the broker owning each. */
  readonly #points: Uint32Array;
  readonly #owners: Int32Array;
  /** The same owners as indexes into `#brokerIds`. */
  readonly #ownerRanks: Int32Array;

  /**
   * Builds the ring. Broker ids must be distinct integers >= 0 and `virtualNodes` an integer
   * in 1..{@linkcode VIRTUAL_NODES_MAX}; otherwise throws KaError `INVALID_REQUEST`.
   */
  constructor(brokerIds: readonly number[], options: RingOptions = {}) {
    checkBrokerIds(brokerIds);
    const virtualNodes = options.virtualNodes ?? DEFAULT_VIRTUAL_NODES;
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > VIRTUAL_NODES_MAX) {
      throw KaError.of(
        "INVALID_REQUEST",
        `Invalid virtualNodes ${virtualNodes}: must be an integer in 1..${VIRTUAL_NODES_MAX}`,
      );
    }
    this.#brokerIds = Object.freeze([...brokerIds].sort((a, b) => a - b));
    const points: { hash: number; owner: number }[] = [];
    for (const id of this.#brokerIds) {
      for (let vnode = 0; vnode < virtualNodes; vnode++) {
        points.push({ hash: placementHash(`${id}#${vnode}`), owner: id });
      }
    }
    points.sort((a, b) => a.hash - b.hash || a.owner - b.owner);
    this.#points = Uint32Array.from(points, (p) => p.hash);
    this.#owners = Int32Array.from(points, (p) => p.owner);
    const rank = new Map(this.#brokerIds.map((id, index) => [id, index]));
    this.#ownerRanks = Int32Array.from(points, (p) => rank.get(p.owner)!);
  }

  /** The ring's brokers, ascending. */
  get brokerIds(): number[] {
    return [...this.#brokerIds];
  }

  /**
   * The first `count` distinct brokers clockwise from `hash(key)`, in walk order. Throws
   * KaError `INVALID_REPLICATION_FACTOR` when `count` is not an integer in 1..brokers.
   */
  replicasFor(key: string, count: number): number[] {
    const brokers = this.#brokerIds.length;
    if (!Number.isInteger(count) || count < 1 || count > brokers) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Invalid replication factor ${count}: must be an integer in 1..${brokers} ` +
          `(brokers available)`,
      );
    }
    const start = this.#firstPointAtOrAfter(placementHash(key));
    const chosen: number[] = [];
    const total = this.#points.length;
    // Every broker owns at least one point, so one lap always finds `count` distinct brokers.
    for (let step = 0; step < total && chosen.length < count; step++) {
      const owner = this.#owners[(start + step) % total];
      if (!chosen.includes(owner)) chosen.push(owner);
    }
    return chosen;
  }

  /**
   * Replica sets for `keys` (one per key, in order) under consistent hashing with bounded
   * loads: each key walks clockwise from `hash(key)` like {@linkcode HashRing.replicasFor},
   * but skips brokers already in its set and brokers whose load would leave the balance
   * unreachable. Every broker ends with `floor(keys × count / brokers)` or one more replicas
   * (none above the capacity `ceil(keys × count / brokers)`). Throws KaError
   * `INVALID_REPLICATION_FACTOR` when `count` is not an integer in 1..brokers.
   */
  boundedReplicaSets(keys: readonly string[], count: number): number[][] {
    const brokers = this.#brokerIds.length;
    if (!Number.isInteger(count) || count < 1 || count > brokers) {
      throw KaError.of(
        "INVALID_REPLICATION_FACTOR",
        `Invalid replication factor ${count}: must be an integer in 1..${brokers} ` +
          `(brokers available)`,
      );
    }
    const total = this.#points.length;
    const budget = new LoadBudget(brokers, keys.length, count);
    const taken = new Uint8Array(brokers);
    return keys.map((key, index) => {
      const later = keys.length - index - 1;
      const start = this.#firstPointAtOrAfter(placementHash(key));
      const chosen: number[] = [];
      // While a completion exists, one lap visits a broker that keeps one: `count` laps suffice.
      for (let step = 0; step < count * total && chosen.length < count; step++) {
        const rank = this.#ownerRanks[(start + step) % total];
        if (taken[rank] === 1 || !budget.hasRoom(rank)) continue;
        budget.add(rank);
        taken[rank] = 1;
        if (budget.canComplete(taken, count - chosen.length - 1, later)) {
          chosen.push(rank);
        } else {
          budget.remove(rank);
          taken[rank] = 0;
        }
      }
      assert(chosen.length === count, `bounded walk for '${key}' found ${chosen.length}/${count}`);
      for (const rank of chosen) taken[rank] = 0;
      return chosen.map((rank) => this.#brokerIds[rank]);
    });
  }

  /** Index of the first point whose hash is >= `hash`, wrapping to 0 past the end. */
  #firstPointAtOrAfter(hash: number): number {
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.#points.length ? 0 : lo;
  }
}

/**
 * Picks one leader per replica set so leader counts (plus `leaderLoad`) are as even as the sets
 * allow, and returns each set reordered with its leader first (the others keep their order).
 * Greedy first, ties in round-robin order over the sorted broker ids; then shifts leadership
 * along alternating paths while some broker leads at least two more than one it can reach.
 */
export function spreadLeaders(
  replicaSets: readonly (readonly number[])[],
  options: { leaderLoad?: ReadonlyMap<number, number> } = {},
): number[][] {
  for (const [p, replicas] of replicaSets.entries()) {
    if (replicas.length === 0) {
      throw KaError.of("INVALID_REQUEST", `Replica set of partition ${p} is empty`);
    }
  }
  const brokerIds = [...new Set(replicaSets.flat())].sort((a, b) => a - b);
  const rank = new Map(brokerIds.map((id, index) => [id, index]));
  const load = new Map<number, number>();
  for (const id of brokerIds) {
    const base = options.leaderLoad?.get(id) ?? 0;
    if (!Number.isSafeInteger(base) || base < 0) {
      throw KaError.of("INVALID_REQUEST", `Invalid leader load ${base} for broker ${id}`);
    }
    load.set(id, base);
  }
  const leaders = greedyLeaders(replicaSets, load, rank);
  repairLeaders(replicaSets, leaders, load, brokerIds);
  return replicaSets.map((
    replicas,
    p,
  ) => [leaders[p], ...replicas.filter((b) => b !== leaders[p])]);
}

/** Each partition takes its least-loaded replica; ties go round-robin from a moving cursor. */
function greedyLeaders(
  replicaSets: readonly (readonly number[])[],
  load: Map<number, number>,
  rank: ReadonlyMap<number, number>,
): number[] {
  const brokers = rank.size;
  let cursor = 0;
  return replicaSets.map((replicas) => {
    let best = -1;
    let bestKey = Infinity;
    for (const id of replicas) {
      // Load first, then distance from the cursor in round-robin order.
      const distance = (rank.get(id)! - cursor + brokers) % brokers;
      const key = load.get(id)! * brokers + distance;
      if (key < bestKey) [best, bestKey] = [id, key];
    }
    load.set(best, load.get(best)! + 1);
    cursor = (rank.get(best)! + 1) % brokers;
    return best;
  });
}

/**
 * Repeats: from each broker (most loaded first), breadth-first search over "partition led by
 * u also has replica v" edges for a broker v leading at least two fewer; if found, shift
 * leadership one step along the path. Each shift lowers the sum of squared loads, so it ends.
 */
function repairLeaders(
  replicaSets: readonly (readonly number[])[],
  leaders: number[],
  load: Map<number, number>,
  brokerIds: readonly number[],
): void {
  let improved = true;
  while (improved) {
    improved = false;
    const sources = [...brokerIds].sort((a, b) => load.get(b)! - load.get(a)! || a - b);
    for (const source of sources) {
      if (shiftFrom(source, replicaSets, leaders, load)) {
        improved = true;
        break;
      }
    }
  }
}

function shiftFrom(
  source: number,
  replicaSets: readonly (readonly number[])[],
  leaders: number[],
  load: Map<number, number>,
): boolean {
  const target = load.get(source)! - 2;
  // For each reached broker: the partition that led to it (and, through it, the previous broker).
  const via = new Map<number, number>([[source, -1]]);
  const queue = [source];
  for (let head = 0; head < queue.length; head++) {
    const from = queue[head];
    for (let p = 0; p < replicaSets.length; p++) {
      if (leaders[p] !== from) continue;
      for (const to of replicaSets[p]) {
        if (via.has(to)) continue;
        via.set(to, p);
        if (load.get(to)! <= target) {
          // Walk back from `to`, handing each partition on the path to its next broker.
          let broker = to;
          while (broker !== source) {
            const partition = via.get(broker)!;
            const previous = leaders[partition];
            leaders[partition] = broker;
            broker = previous;
          }
          load.set(source, load.get(source)! - 1);
          load.set(to, load.get(to)! + 1);
          return true;
        }
        queue.push(to);
      }
    }
  }
  return false;
}

/**
 * Places `partitionCount` partitions of `topic` on `brokerIds`: the bounded-load ring picks
 * each replica set ({@linkcode HashRing.boundedReplicaSets}, key `${topic}/${partition}`), so
 * every broker holds `floor` or `ceil` of the mean replica count, then
 * {@linkcode spreadLeaders} puts a fairly spread leader first. Throws KaError `INVALID_PARTITIONS` for a count outside
 * 1..{@linkcode PARTITIONS_MAX} and `INVALID_REPLICATION_FACTOR` for a factor outside
 * 1..brokers.
 */
export function placeTopic(
  topic: string,
  partitionCount: number,
  brokerIds: readonly number[],
  replicationFactor: number,
  options: PlaceTopicOptions = {},
): PartitionPlacement[] {
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > PARTITIONS_MAX) {
    throw KaError.of(
      "INVALID_PARTITIONS",
      `Invalid partition count ${partitionCount} for topic '${topic}': ` +
        `must be an integer in 1..${PARTITIONS_MAX}`,
    );
  }
  const ring = new HashRing(brokerIds, options);
  const keys = Array.from({ length: partitionCount }, (_, partition) => `${topic}/${partition}`);
  const replicaSets = ring.boundedReplicaSets(keys, replicationFactor);
  return spreadLeaders(replicaSets, options).map((replicas, partition) => ({
    partition,
    replicas,
  }));
}
