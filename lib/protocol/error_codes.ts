/**
 * The one table of error codes. Kafka's numbers where Kafka has the error,
 * our own (≥ 1000) otherwise. Each entry says whether a client may retry and
 * which HTTP status the gateways answer with; nothing else keeps a second list.
 * @module
 */

/** One row of the error table. */
export interface ErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  readonly httpStatus: number;
  readonly message: string;
}

function row(
  code: number,
  name: string,
  retriable: boolean,
  httpStatus: number,
  message: string,
): ErrorInfo {
  return Object.freeze({ code, name, retriable, httpStatus, message });
}

/** Every error the cluster can answer with, by name. */
export const ERRORS = Object.freeze({
  NONE: row(0, "NONE", false, 200, "No error"),
  UNKNOWN_SERVER_ERROR: row(-1, "UNKNOWN_SERVER_ERROR", false, 500, "Unexpected server error"),
  OFFSET_OUT_OF_RANGE: row(1, "OFFSET_OUT_OF_RANGE", false, 416, "Offset is out of range"),
  CORRUPT_MESSAGE: row(
    2,
    "CORRUPT_MESSAGE",
    true,
    400,
    "Message failed its CRC check or is malformed",
  ),
  UNKNOWN_TOPIC_OR_PARTITION: row(
    3,
    "UNKNOWN_TOPIC_OR_PARTITION",
    true,
    404,
    "Unknown topic or partition",
  ),
  INVALID_FETCH_SIZE: row(4, "INVALID_FETCH_SIZE", false, 400, "Invalid fetch size"),
  LEADER_NOT_AVAILABLE: row(5, "LEADER_NOT_AVAILABLE", true, 503, "Leader not available"),
  NOT_LEADER_OR_FOLLOWER: row(
    6,
    "NOT_LEADER_OR_FOLLOWER",
    true,
    503,
    "This broker is not the partition leader",
  ),
  REQUEST_TIMED_OUT: row(7, "REQUEST_TIMED_OUT", true, 504, "Request timed out"),
  BROKER_NOT_AVAILABLE: row(8, "BROKER_NOT_AVAILABLE", false, 503, "Broker not available"),
  REPLICA_NOT_AVAILABLE: row(9, "REPLICA_NOT_AVAILABLE", true, 503, "Replica not available"),
  MESSAGE_TOO_LARGE: row(
    10,
    "MESSAGE_TOO_LARGE",
    false,
    413,
    "Message is larger than the maximum allowed",
  ),
  NETWORK_EXCEPTION: row(13, "NETWORK_EXCEPTION", true, 503, "Connection to the server was lost"),
  COORDINATOR_NOT_AVAILABLE: row(
    15,
    "COORDINATOR_NOT_AVAILABLE",
    true,
    503,
    "Coordinator not available",
  ),
  INVALID_TOPIC_EXCEPTION: row(17, "INVALID_TOPIC_EXCEPTION", false, 400, "Invalid topic name"),
  RECORD_LIST_TOO_LARGE: row(
    18,
    "RECORD_LIST_TOO_LARGE",
    false,
    413,
    "Record batch is larger than the maximum allowed",
  ),
  NOT_ENOUGH_REPLICAS: row(19, "NOT_ENOUGH_REPLICAS", true, 503, "Not enough in-sync replicas"),
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: row(
    20,
    "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    true,
    503,
    "Written, but to fewer in-sync replicas than required",
  ),
  INVALID_REQUIRED_ACKS: row(
    21,
    "INVALID_REQUIRED_ACKS",
    false,
    400,
    "acks must be 0, 1 or -1 (all)",
  ),
  INVALID_TIMESTAMP: row(32, "INVALID_TIMESTAMP", false, 400, "Invalid timestamp"),
  UNSUPPORTED_VERSION: row(35, "UNSUPPORTED_VERSION", false, 400, "Unsupported API version"),
  TOPIC_ALREADY_EXISTS: row(36, "TOPIC_ALREADY_EXISTS", false, 409, "Topic already exists"),
  INVALID_PARTITIONS: row(37, "INVALID_PARTITIONS", false, 400, "Invalid number of partitions"),
  INVALID_REPLICATION_FACTOR: row(
    38,
    "INVALID_REPLICATION_FACTOR",
    false,
    400,
    "Invalid replication factor",
  ),
  INVALID_REQUEST: row(42, "INVALID_REQUEST", false, 400, "Malformed request"),
  UNSUPPORTED_FOR_MESSAGE_FORMAT: row(
    43,
    "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    false,
    400,
    "Message format not supported",
  ),
  INVALID_CONFIG: row(40, "INVALID_CONFIG", false, 400, "Invalid configuration"),
  NOT_CONTROLLER: row(41, "NOT_CONTROLLER", true, 503, "Not the controller"),
  OPERATION_NOT_ATTEMPTED: row(
    55,
    "OPERATION_NOT_ATTEMPTED",
    false,
    409,
    "Not attempted: another part of the request failed",
  ),
  OFFSET_METADATA_TOO_LARGE: row(
    12,
    "OFFSET_METADATA_TOO_LARGE",
    false,
    400,
    "Offset metadata is too large",
  ),
  COORDINATOR_LOAD_IN_PROGRESS: row(
    14,
    "COORDINATOR_LOAD_IN_PROGRESS",
    true,
    503,
    "The coordinator is loading",
  ),
  NOT_COORDINATOR: row(16, "NOT_COORDINATOR", true, 503, "This is not the group coordinator"),
  ILLEGAL_GENERATION: row(
    22,
    "ILLEGAL_GENERATION",
    false,
    409,
    "The group generation has moved on",
  ),
  INCONSISTENT_GROUP_PROTOCOL: row(
    23,
    "INCONSISTENT_GROUP_PROTOCOL",
    false,
    409,
    "No protocol in common with the group",
  ),
  INVALID_GROUP_ID: row(24, "INVALID_GROUP_ID", false, 400, "Invalid group id"),
  UNKNOWN_MEMBER_ID: row(25, "UNKNOWN_MEMBER_ID", false, 409, "Unknown group member"),
  INVALID_SESSION_TIMEOUT: row(
    26,
    "INVALID_SESSION_TIMEOUT",
    false,
    400,
    "Invalid session timeout",
  ),
  REBALANCE_IN_PROGRESS: row(
    27,
    "REBALANCE_IN_PROGRESS",
    false,
    409,
    "The group is rebalancing: rejoin",
  ),
  NON_EMPTY_GROUP: row(68, "NON_EMPTY_GROUP", false, 409, "The group has members"),
  GROUP_ID_NOT_FOUND: row(69, "GROUP_ID_NOT_FOUND", false, 404, "Unknown group"),
  MEMBER_ID_REQUIRED: row(79, "MEMBER_ID_REQUIRED", false, 409, "Rejoin with the given member id"),
  GROUP_MAX_SIZE_REACHED: row(81, "GROUP_MAX_SIZE_REACHED", false, 409, "The group is full"),
  OUT_OF_ORDER_SEQUENCE_NUMBER: row(
    45,
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    false,
    409,
    "Out of order sequence number",
  ),
  DUPLICATE_SEQUENCE_NUMBER: row(
    46,
    "DUPLICATE_SEQUENCE_NUMBER",
    false,
    409,
    "Duplicate sequence number",
  ),
  INVALID_PRODUCER_EPOCH: row(47, "INVALID_PRODUCER_EPOCH", false, 409, "Producer epoch is fenced"),
  UNKNOWN_PRODUCER_ID: row(59, "UNKNOWN_PRODUCER_ID", false, 409, "Unknown producer id"),
  INVALID_TXN_STATE: row(
    48,
    "INVALID_TXN_STATE",
    false,
    409,
    "Transactional operation in an invalid state",
  ),
  INVALID_PRODUCER_ID_MAPPING: row(
    49,
    "INVALID_PRODUCER_ID_MAPPING",
    false,
    409,
    "Producer id not assigned to this transactional id",
  ),
  INVALID_TRANSACTION_TIMEOUT: row(
    50,
    "INVALID_TRANSACTION_TIMEOUT",
    false,
    400,
    "Transaction timeout is larger than allowed",
  ),
  CONCURRENT_TRANSACTIONS: row(
    51,
    "CONCURRENT_TRANSACTIONS",
    true,
    503,
    "The producer's previous transaction is still ending",
  ),
  TRANSACTION_COORDINATOR_FENCED: row(
    52,
    "TRANSACTION_COORDINATOR_FENCED",
    false,
    409,
    "A newer transaction coordinator has taken over",
  ),
  PRODUCER_FENCED: row(
    90,
    "PRODUCER_FENCED",
    false,
    409,
    "Fenced by a newer producer of this transactional id",
  ),
  KAFKA_STORAGE_ERROR: row(
    56,
    "KAFKA_STORAGE_ERROR",
    true,
    503,
    "Disk error while accessing the log",
  ),
  FENCED_LEADER_EPOCH: row(
    74,
    "FENCED_LEADER_EPOCH",
    true,
    409,
    "Leader epoch is older than the broker's",
  ),
  UNKNOWN_LEADER_EPOCH: row(
    75,
    "UNKNOWN_LEADER_EPOCH",
    true,
    503,
    "Leader epoch is newer than the broker's",
  ),
  UNSUPPORTED_COMPRESSION_TYPE: row(
    76,
    "UNSUPPORTED_COMPRESSION_TYPE",
    false,
    415,
    "Compression type not supported",
  ),
  THROTTLING_QUOTA_EXCEEDED: row(89, "THROTTLING_QUOTA_EXCEEDED", true, 429, "Quota exceeded"),
  // Our own codes: errors Kafka has no number for.
  FRAME_TOO_LARGE: row(
    1000,
    "FRAME_TOO_LARGE",
    false,
    413,
    "Frame is larger than the maximum allowed",
  ),
  UNKNOWN_BROKER: row(1001, "UNKNOWN_BROKER", false, 404, "Unknown broker"),
  STALE_METADATA: row(
    1002,
    "STALE_METADATA",
    true,
    503,
    "Metadata version is older than the coordinator's",
  ),
  INVALID_COMMAND: row(1003, "INVALID_COMMAND", false, 400, "Invalid console command"),
  SERVICE_STATE: row(
    1004,
    "SERVICE_STATE",
    false,
    409,
    "The service is not in a state that allows this",
  ),
  // Gateway-only codes (1100..1199): HTTP conditions with no cluster counterpart.
  HTTP_ROUTE_NOT_FOUND: row(1100, "HTTP_ROUTE_NOT_FOUND", false, 404, "No such endpoint"),
  // Client-library codes (1200..1299): failures a client raises before or after the wire.
  BUFFER_EXHAUSTED: row(
    1200,
    "BUFFER_EXHAUSTED",
    true,
    503,
    "The producer's buffer stayed full for max_block_ms",
  ),
  DELIVERY_TIMEOUT: row(
    1201,
    "DELIVERY_TIMEOUT",
    true,
    504,
    "A record was not acknowledged within delivery_timeout_ms",
  ),
  SERIALIZATION_ERROR: row(1202, "SERIALIZATION_ERROR", false, 400, "Cannot serialize a value"),
  DESERIALIZATION_ERROR: row(
    1203,
    "DESERIALIZATION_ERROR",
    false,
    422,
    "Cannot deserialize a stored value",
  ),
  SCHEMA_NOT_FOUND: row(1204, "SCHEMA_NOT_FOUND", false, 404, "Unknown schema id or subject"),
  INVALID_SCHEMA: row(1205, "INVALID_SCHEMA", false, 400, "Invalid Avro schema"),
  TRANSACTION_ABORTED: row(
    1206,
    "TRANSACTION_ABORTED",
    false,
    409,
    "The record was not sent because its transaction was aborted",
  ),
});

/** Name of an error in {@linkcode ERRORS}. */
export type ErrorName = keyof typeof ERRORS;

const BY_CODE: ReadonlyMap<number, ErrorInfo> = new Map(
  Object.values(ERRORS).map((info) => [info.code, info]),
);

/** The table row for `code`; unknown codes map to a non-retriable UNKNOWN row. */
export function errorInfo(code: number): ErrorInfo {
  return BY_CODE.get(code) ??
    row(code, `UNKNOWN_ERROR_${code}`, false, 500, `Unknown error code ${code}`);
}
