/**
 * Every maximum in one place. Nothing in the cluster is unbounded: each queue,
 * buffer and frame has a named limit here, and their relations are asserted
 * when the module loads.
 * @module
 */
import { assert } from "./assert.ts";

/** Bytes of the length prefix before every frame. */
export const FRAME_LENGTH_BYTES = 4;
/** Largest frame (after the length prefix) a peer may send: checked before allocating. */
export const FRAME_BYTES_MAX = 100 * 1024 * 1024;
/** Largest record batch a producer may send to one partition (Kafka's message.max.bytes default is ~1 MiB). */
export const BATCH_BYTES_MAX = 1024 * 1024 + 1024;
/** Largest array length any decoder accepts before allocating. */
export const ARRAY_LENGTH_MAX = 1_000_000;
/** Largest string any decoder accepts (bytes). */
export const STRING_BYTES_MAX = 32_767;
/** Records in one batch at most. */
export const BATCH_RECORDS_MAX = 1_000_000;
/** Requests a connection may have outstanding before the client waits. */
export const IN_FLIGHT_REQUESTS_MAX = 1024;
/** Long-poll fetches a broker parks at once across all connections. */
export const PENDING_FETCHES_MAX = 10_000;
/** Longest a fetch may be parked. */
export const FETCH_WAIT_MS_MAX = 30_000;
/** Bytes a client asks one Fetch response to carry at most (Kafka's fetch.max.bytes default). */
export const FETCH_RESPONSE_BYTES_MAX = 50 * 1024 * 1024;
/** Partitions one topic may have. */
export const PARTITIONS_MAX = 10_000;
/** Console line length at most. */
export const CONSOLE_LINE_BYTES_MAX = 64 * 1024;
/** Console connections (terminal clients, `nc`, `deno task admin`) one coordinator serves at once. */
export const CONSOLE_CONNECTIONS_MAX = 64;
/**
 * Largest framed console request (after the length prefix): a line of
 * CONSOLE_LINE_BYTES_MAX, even if every byte were escaped 6-fold, plus headers.
 */
export const CONSOLE_REQUEST_BYTES_MAX = 1024 * 1024;
/** Largest framed console answer a client accepts (a `topic describe` of PARTITIONS_MAX partitions fits). */
export const CONSOLE_RESPONSE_BYTES_MAX = 16 * 1024 * 1024;
/** Connections one listener accepts at once. */
export const CONNECTIONS_MAX = 4096;
/** Brokers one cluster may have (`coordinator.broker_count`); also bounds the replication factor. */
export const BROKERS_MAX = 64;

/** Batches per producer id a partition remembers for duplicate detection (Kafka keeps 5). */
export const PRODUCER_BATCHES_CACHED = 5;
/** Producer ids one partition keeps state for; the least recently used is forgotten beyond. */
export const PRODUCER_STATES_PER_PARTITION_MAX = 10_000;
/** Transactional ids the coordinator remembers producer ids and epochs for. */
export const TRANSACTIONAL_IDS_MAX = 100_000;
/** Largest Avro schema text the registry stores (bytes of UTF-8). */
export const SCHEMA_BYTES_MAX = 256 * 1024;
/** Schemas the registry holds at most (across subjects). */
export const SCHEMAS_MAX = 10_000;
/** Longest schema subject name (bytes of UTF-8). */
export const SUBJECT_BYTES_MAX = 255;
/** Largest records section a client inflates from one compressed batch (zip-bomb bound). */
export const DECOMPRESSED_BATCH_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Bytes one partition-log read gathers at most (a single larger batch is
 * still returned whole), bounding the buffer a fetch or a scan allocates.
 */
export const LOG_READ_BYTES_MAX = 64 * 1024 * 1024;

/** Largest HTTP request body a gateway reads; larger bodies get 413 before they are buffered. */
export const GATEWAY_BODY_BYTES_MAX = 2 * 1024 * 1024;
/** Messages one reader-gateway fetch may return. */
export const GATEWAY_FETCH_MESSAGES_MAX = 1000;
/** Bytes the reader gateway asks a broker for in one fetch, bounding the JSON it builds. */
export const GATEWAY_FETCH_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Partition readers (each with its own broker connections) the reader gateway
 * keeps: a broker answers one connection's requests in order, so a long poll
 * holds its connection, and concurrent HTTP reads need readers of their own.
 */
export const GATEWAY_READERS_MAX = 16;
/** HTTP reads waiting for a free reader; beyond this they get 429. */
export const GATEWAY_PENDING_READS_MAX = 1000;

assert(BATCH_BYTES_MAX + 1024 <= FRAME_BYTES_MAX, "a full batch plus headers must fit in a frame");
assert(
  FETCH_RESPONSE_BYTES_MAX + 1024 * 1024 <= FRAME_BYTES_MAX,
  "a fetch response must fit in a frame",
);
assert(LOG_READ_BYTES_MAX >= BATCH_BYTES_MAX, "a log read must hold the largest batch");
assert(CONSOLE_LINE_BYTES_MAX < FRAME_BYTES_MAX, "a console line must fit in a frame");
assert(
  6 * CONSOLE_LINE_BYTES_MAX + 1024 <= CONSOLE_REQUEST_BYTES_MAX,
  "a console request must hold a fully escaped line",
);
assert(CONSOLE_RESPONSE_BYTES_MAX <= FRAME_BYTES_MAX, "a console answer must fit in a frame");
assert(GATEWAY_BODY_BYTES_MAX > BATCH_BYTES_MAX, "a gateway body must hold a full batch");
assert(GATEWAY_FETCH_BYTES_MAX < FRAME_BYTES_MAX, "a gateway fetch must fit in a frame");
assert(SCHEMA_BYTES_MAX * 2 < FRAME_BYTES_MAX, "a schema (JSON-escaped) must fit in a frame");
assert(
  DECOMPRESSED_BATCH_BYTES_MAX >= BATCH_BYTES_MAX,
  "an uncompressed full batch must be inflatable",
);
/** Members one consumer group may have. */
export const GROUP_MEMBERS_MAX = 1000;

/** Connections one IP address may hold on one listener (loopback clients all share 127.0.0.1). */
export const CONNECTIONS_PER_IP_MAX = 1024;
/** A connection that sends nothing and awaits no answer this long is closed (Kafka's connections.max.idle.ms). */
export const CONNECTION_IDLE_TIMEOUT_MS = 600_000;
/** Longest a peer may take to send one whole request, or to take one answer off the socket. */
export const LISTENER_REQUEST_TIMEOUT_MS = 30_000;
/** Answer bytes one connection may have waiting to be written; a peer that reads slower is dropped. */
export const CONNECTION_QUEUED_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Bytes all connections of one listener may hold together: requests partly
 * received or being handled, plus answers queued for writing. A connection
 * whose growth would pass it is closed, unless it is the only one holding
 * bytes. Bounds a listener's buffers to this, where connections × (frame +
 * queue) maxima would allow ~100 GiB.
 */
export const LISTENER_BUFFERED_BYTES_MAX = 512 * 1024 * 1024;
/** HTTP requests one gateway handles at once; more get 429. */
export const GATEWAY_REQUESTS_MAX = 1024;
/** HTTP requests one IP address may have in progress on a gateway; more get 429. */
export const GATEWAY_REQUESTS_PER_IP_MAX = 1024;
/** Longest a gateway spends on one HTTP request (long polls included) before answering 504. */
export const GATEWAY_REQUEST_TIMEOUT_MS = 60_000;

/**
 * The finite limits of one TCP listener (broker, coordinator, console). The
 * config section `limits` sets them; {@linkcode DEFAULT_LISTENER_LIMITS} are
 * the defaults.
 */
export interface ListenerLimits {
  /** Connections open at once; more are closed on accept. */
  readonly connectionsMax: number;
  /** Connections from one IP address open at once; more are closed on accept. */
  readonly connectionsPerIpMax: number;
  /** Largest frame body; the declared length is checked before anything is allocated. */
  readonly frameBytesMax: number;
  /** Closes a connection that sends nothing and awaits nothing this long. */
  readonly idleTimeoutMs: number;
  /** Closes a connection whose request is not whole, or whose answer is not read, this long. */
  readonly requestTimeoutMs: number;
  /** Requests one connection may have unanswered; the listener reads no more from it meanwhile. */
  readonly inFlightRequestsMax: number;
  /** Answer bytes one connection may have waiting to be written; beyond, it is closed. */
  readonly queuedBytesMax: number;
  /**
   * Bytes all connections of the listener may hold together (requests partly
   * received or being handled, answers queued); the connection whose growth
   * would pass it is closed, unless no other connection holds bytes.
   */
  readonly bufferedBytesMax: number;
}

/** Defaults for a broker or coordinator listener. */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = Object.freeze({
  connectionsMax: 1024,
  connectionsPerIpMax: CONNECTIONS_PER_IP_MAX,
  frameBytesMax: FRAME_BYTES_MAX,
  idleTimeoutMs: CONNECTION_IDLE_TIMEOUT_MS,
  requestTimeoutMs: LISTENER_REQUEST_TIMEOUT_MS,
  inFlightRequestsMax: IN_FLIGHT_REQUESTS_MAX,
  queuedBytesMax: CONNECTION_QUEUED_BYTES_MAX,
  bufferedBytesMax: LISTENER_BUFFERED_BYTES_MAX,
});

assert(
  CONNECTION_QUEUED_BYTES_MAX >= FETCH_RESPONSE_BYTES_MAX,
  "a connection must be able to queue one full fetch answer",
);
assert(
  LISTENER_BUFFERED_BYTES_MAX >= FRAME_BYTES_MAX &&
    LISTENER_BUFFERED_BYTES_MAX >= CONNECTION_QUEUED_BYTES_MAX,
  "a listener's buffer budget must hold one largest frame and one full answer queue",
);
assert(CONNECTIONS_PER_IP_MAX <= CONNECTIONS_MAX, "a per-IP limit above the total means nothing");
assert(
  GATEWAY_REQUEST_TIMEOUT_MS > FETCH_WAIT_MS_MAX,
  "a gateway request must outlast the longest long poll",
);
