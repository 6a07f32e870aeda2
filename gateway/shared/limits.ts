/**
 * The gateways' own maxima, next to the shared ones in `@kafka-analog/lib/limits`
 * (body bytes, fetch bytes, readers). Every queue and buffer a gateway keeps
 * is bounded by one of these, and their relations are asserted at load.
 * @module
 */
import { assert } from "@kafka-analog/lib/assert";
import { GATEWAY_BODY_BYTES_MAX, GATEWAY_FETCH_MESSAGES_MAX } from "@kafka-analog/lib/limits";

/** Messages one `POST /api/v1/messages/batch` may carry (default of `--batch-max`). */
export const GATEWAY_BATCH_MESSAGES_MAX = 1000;
/** Subscriptions one reader gateway keeps at once; the next one gets 429. */
export const GATEWAY_SUBSCRIPTIONS_MAX = 256;
/** WebSocket streams one reader gateway serves at once; the next one gets 429. */
export const GATEWAY_STREAMS_MAX = 64;
/**
 * Bytes of fetched, not yet delivered messages a subscription or stream
 * buffers before it pauses fetching (one poll more may arrive on top).
 */
export const GATEWAY_CONSUMER_BUFFER_BYTES_MAX = 1024 * 1024;
/** Bytes a group member or stream asks each partition's leader for in one fetch. */
export const GATEWAY_PARTITION_FETCH_BYTES_MAX = 256 * 1024;
/** Messages one `GET .../subscriptions/:id/messages` returns at most (`max`). */
export const GATEWAY_POLL_MESSAGES_MAX = GATEWAY_FETCH_MESSAGES_MAX;
/** Longest a subscription poll waits for messages (`timeoutMs`). */
export const GATEWAY_POLL_WAIT_MS_MAX = 30_000;
/** Bytes a WebSocket may have queued (`bufferedAmount`) before the stream stops fetching. */
export const GATEWAY_WS_BUFFERED_BYTES_MAX = 1024 * 1024;
/** Topics one subscription may name. */
export const GATEWAY_SUBSCRIPTION_TOPICS_MAX = 100;
/** Longest a consumer group id may be (characters). */
export const GROUP_ID_LENGTH_MAX = 255;

assert(GATEWAY_BATCH_MESSAGES_MAX >= 100, "a batch must hold at least 100 messages");
assert(
  GATEWAY_CONSUMER_BUFFER_BYTES_MAX >= GATEWAY_PARTITION_FETCH_BYTES_MAX,
  "a consumer buffer must hold at least one partition's fetch",
);
assert(
  GATEWAY_WS_BUFFERED_BYTES_MAX < GATEWAY_BODY_BYTES_MAX,
  "a stream's socket buffer stays below one request body",
);
