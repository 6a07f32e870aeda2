/**
 * The Kafka wire protocol, sans I/O: bytes in, typed values out. This module
 * re-exports the codec, CRC-32C, record batches, API keys, error table and
 * every message, and adds the framed API used by servers and clients:
 *
 * ```
 * Frame        => length int32, then `length` bytes of:
 * Request      => RequestHeader v1 or v2, request body
 * RequestHeader v1 => apiKey int16, apiVersion int16, correlationId int32,
 *                     clientId nullable string
 * RequestHeader v2 => RequestHeader v1, _tagged_fields     (flexible versions)
 * Response     => ResponseHeader v0 (correlationId int32), response body
 *                 (v1 = v0 + _tagged_fields for flexible versions, never for ApiVersions)
 * ```
 *
 * Almost every version implemented is classic (non-flexible): requests use
 * header v1 and responses header v0. The exceptions are listed in
 * `FLEXIBLE_VERSION_MIN` (ApiVersions v3).
 *
 * ```ts
 * import { ApiKey, decodeRequest, encodeResponse } from "@kafka-analog/lib/protocol";
 * const req = decodeRequest(frame); // frame: the bytes after the length prefix
 * if (req.apiKey === ApiKey.Metadata) {
 *   const out = encodeResponse(ApiKey.Metadata, req.header.apiVersion, req.header.correlationId, {
 *     brokers: [], controllerId: -1, topics: [],
 *   });
 * }
 * ```
 * @module
 */
import { assert } from "../assert.ts";
import { isKaError, KaError } from "../errors.ts";
import { FRAME_BYTES_MAX, FRAME_LENGTH_BYTES } from "../limits.ts";
import {
  ApiKey,
  apiName,
  isSupportedVersion,
  requestHeaderVersion,
  responseHeaderVersion,
  SUPPORTED_VERSIONS,
} from "./api_keys.ts";
import { Reader, Writer } from "./codec.ts";
import { type ErrorName, ERRORS } from "./error_codes.ts";
import {
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  decodeApiVersionsRequest,
  decodeApiVersionsResponse,
  encodeApiVersionsRequest,
  encodeApiVersionsResponse,
} from "./messages/api_versions.ts";
import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  decodeCreatePartitionsRequest,
  decodeCreatePartitionsResponse,
  encodeCreatePartitionsRequest,
  encodeCreatePartitionsResponse,
} from "./messages/create_partitions.ts";
import {
  decodeDescribeConfigsRequest,
  decodeDescribeConfigsResponse,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  encodeDescribeConfigsRequest,
  encodeDescribeConfigsResponse,
} from "./messages/describe_configs.ts";
import {
  type AlterConfigsRequest,
  type AlterConfigsResponse,
  decodeAlterConfigsRequest,
  decodeAlterConfigsResponse,
  encodeAlterConfigsRequest,
  encodeAlterConfigsResponse,
} from "./messages/alter_configs.ts";
import {
  decodeDeleteGroupsRequest,
  decodeDeleteGroupsResponse,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
  encodeDeleteGroupsRequest,
  encodeDeleteGroupsResponse,
} from "./messages/delete_groups.ts";
import {
  decodeIncrementalAlterConfigsRequest,
  decodeIncrementalAlterConfigsResponse,
  encodeIncrementalAlterConfigsRequest,
  encodeIncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from "./messages/incremental_alter_configs.ts";
import {
  type CreateTopicsRequest,
  type CreateTopicsResponse,
  decodeCreateTopicsRequest,
  decodeCreateTopicsResponse,
  encodeCreateTopicsRequest,
  encodeCreateTopicsResponse,
} from "./messages/create_topics.ts";
import {
  decodeDeleteTopicsRequest,
  decodeDeleteTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  encodeDeleteTopicsRequest,
  encodeDeleteTopicsResponse,
} from "./messages/delete_topics.ts";
import {
  decodeFetchRequest,
  decodeFetchResponse,
  encodeFetchRequest,
  encodeFetchResponse,
  type FetchRequest,
  type FetchResponse,
} from "./messages/fetch.ts";
import {
  decodeInitProducerIdRequest,
  decodeInitProducerIdResponse,
  encodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
  type InitProducerIdRequest,
  type InitProducerIdResponse,
} from "./messages/init_producer_id.ts";
import { decodeInternalBody, encodeInternalBody, type InternalBody } from "./messages/internal.ts";
import {
  decodeOffsetForLeaderEpochRequest,
  decodeOffsetForLeaderEpochResponse,
  encodeOffsetForLeaderEpochRequest,
  encodeOffsetForLeaderEpochResponse,
  type OffsetForLeaderEpochRequest,
  type OffsetForLeaderEpochResponse,
} from "./messages/offset_for_leader_epoch.ts";
import {
  decodeListOffsetsRequest,
  decodeListOffsetsResponse,
  encodeListOffsetsRequest,
  encodeListOffsetsResponse,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
} from "./messages/list_offsets.ts";
import {
  decodeMetadataRequest,
  decodeMetadataResponse,
  encodeMetadataRequest,
  encodeMetadataResponse,
  type MetadataRequest,
  type MetadataResponse,
} from "./messages/metadata.ts";
import {
  decodeProduceRequest,
  decodeProduceResponse,
  encodeProduceRequest,
  encodeProduceResponse,
  type ProduceRequest,
  type ProduceResponse,
} from "./messages/produce.ts";
import {
  decodeOffsetCommitRequest,
  decodeOffsetCommitResponse,
  encodeOffsetCommitRequest,
  encodeOffsetCommitResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
} from "./messages/offset_commit.ts";
import {
  decodeOffsetFetchRequest,
  decodeOffsetFetchResponse,
  encodeOffsetFetchRequest,
  encodeOffsetFetchResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from "./messages/offset_fetch.ts";
import {
  decodeFindCoordinatorRequest,
  decodeFindCoordinatorResponse,
  encodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from "./messages/find_coordinator.ts";
import {
  decodeJoinGroupRequest,
  decodeJoinGroupResponse,
  encodeJoinGroupRequest,
  encodeJoinGroupResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from "./messages/join_group.ts";
import {
  decodeHeartbeatRequest,
  decodeHeartbeatResponse,
  encodeHeartbeatRequest,
  encodeHeartbeatResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from "./messages/heartbeat.ts";
import {
  decodeLeaveGroupRequest,
  decodeLeaveGroupResponse,
  encodeLeaveGroupRequest,
  encodeLeaveGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from "./messages/leave_group.ts";
import {
  decodeSyncGroupRequest,
  decodeSyncGroupResponse,
  encodeSyncGroupRequest,
  encodeSyncGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from "./messages/sync_group.ts";
import {
  decodeDescribeGroupsRequest,
  decodeDescribeGroupsResponse,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  encodeDescribeGroupsRequest,
  encodeDescribeGroupsResponse,
} from "./messages/describe_groups.ts";
import {
  decodeListGroupsRequest,
  decodeListGroupsResponse,
  encodeListGroupsRequest,
  encodeListGroupsResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
} from "./messages/list_groups.ts";
import {
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  decodeAddPartitionsToTxnRequest,
  decodeAddPartitionsToTxnResponse,
  encodeAddPartitionsToTxnRequest,
  encodeAddPartitionsToTxnResponse,
} from "./messages/add_partitions_to_txn.ts";
import {
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  decodeAddOffsetsToTxnRequest,
  decodeAddOffsetsToTxnResponse,
  encodeAddOffsetsToTxnRequest,
  encodeAddOffsetsToTxnResponse,
} from "./messages/add_offsets_to_txn.ts";
import {
  decodeEndTxnRequest,
  decodeEndTxnResponse,
  encodeEndTxnRequest,
  encodeEndTxnResponse,
  type EndTxnRequest,
  type EndTxnResponse,
} from "./messages/end_txn.ts";
import {
  decodeWriteTxnMarkersRequest,
  decodeWriteTxnMarkersResponse,
  encodeWriteTxnMarkersRequest,
  encodeWriteTxnMarkersResponse,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from "./messages/write_txn_markers.ts";
import {
  decodeTxnOffsetCommitRequest,
  decodeTxnOffsetCommitResponse,
  encodeTxnOffsetCommitRequest,
  encodeTxnOffsetCommitResponse,
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from "./messages/txn_offset_commit.ts";

export * from "./api_keys.ts";
export * from "./codec.ts";
export * from "./crc32c.ts";
export * from "./error_codes.ts";
export * from "./record_batch.ts";
export * from "./messages/api_versions.ts";
export * from "./messages/create_topics.ts";
export * from "./messages/delete_topics.ts";
export * from "./messages/fetch.ts";
export * from "./messages/init_producer_id.ts";
export * from "./messages/internal.ts";
export * from "./messages/list_offsets.ts";
export * from "./messages/metadata.ts";
export * from "./messages/offset_for_leader_epoch.ts";
export * from "./messages/produce.ts";
export * from "./consumer_protocol.ts";
export * from "./messages/offset_commit.ts";
export * from "./messages/offset_fetch.ts";
export * from "./messages/find_coordinator.ts";
export * from "./messages/join_group.ts";
export * from "./messages/heartbeat.ts";
export * from "./messages/leave_group.ts";
export * from "./messages/sync_group.ts";
export * from "./messages/describe_groups.ts";
export * from "./messages/list_groups.ts";
export * from "./messages/add_partitions_to_txn.ts";
export * from "./messages/add_offsets_to_txn.ts";
export * from "./messages/end_txn.ts";
export * from "./messages/write_txn_markers.ts";
export * from "./messages/txn_offset_commit.ts";
export * from "./messages/describe_configs.ts";
export * from "./messages/create_partitions.ts";
export * from "./messages/alter_configs.ts";
export * from "./messages/delete_groups.ts";
export * from "./messages/incremental_alter_configs.ts";
export * from "./control_record.ts";

/** Bytes of request header v1 before `clientId`: apiKey, apiVersion, correlationId. */
export const REQUEST_HEADER_FIXED_BYTES = 8;
/** Bytes of response header v0: correlationId. */
export const RESPONSE_HEADER_BYTES = 4;

assert(FRAME_LENGTH_BYTES === 4, "frames must have an int32 length prefix");
assert(REQUEST_HEADER_FIXED_BYTES === 2 + 2 + 4, "request header v1 is int16, int16, int32, ...");
assert(RESPONSE_HEADER_BYTES === 4, "response header v0 is one int32");

/** Request header v1 (v2 adds only tagged fields, which we skip). */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Request body type by API key, for every API implemented now. */
export interface RequestBodies {
  0: ProduceRequest;
  1: FetchRequest;
  2: ListOffsetsRequest;
  3: MetadataRequest;
  8: OffsetCommitRequest;
  9: OffsetFetchRequest;
  10: FindCoordinatorRequest;
  11: JoinGroupRequest;
  12: HeartbeatRequest;
  13: LeaveGroupRequest;
  14: SyncGroupRequest;
  15: DescribeGroupsRequest;
  16: ListGroupsRequest;
  18: ApiVersionsRequest;
  19: CreateTopicsRequest;
  20: DeleteTopicsRequest;
  22: InitProducerIdRequest;
  23: OffsetForLeaderEpochRequest;
  24: AddPartitionsToTxnRequest;
  25: AddOffsetsToTxnRequest;
  26: EndTxnRequest;
  27: WriteTxnMarkersRequest;
  28: TxnOffsetCommitRequest;
  32: DescribeConfigsRequest;
  33: AlterConfigsRequest;
  37: CreatePartitionsRequest;
  42: DeleteGroupsRequest;
  44: IncrementalAlterConfigsRequest;
  1000: InternalBody;
  1001: InternalBody;
  1002: InternalBody;
  1003: InternalBody;
  1004: InternalBody;
  1010: InternalBody;
  1100: InternalBody;
}

/** Response body type by API key, for every API implemented now. */
export interface ResponseBodies {
  0: ProduceResponse;
  1: FetchResponse;
  2: ListOffsetsResponse;
  3: MetadataResponse;
  8: OffsetCommitResponse;
  9: OffsetFetchResponse;
  10: FindCoordinatorResponse;
  11: JoinGroupResponse;
  12: HeartbeatResponse;
  13: LeaveGroupResponse;
  14: SyncGroupResponse;
  15: DescribeGroupsResponse;
  16: ListGroupsResponse;
  18: ApiVersionsResponse;
  19: CreateTopicsResponse;
  20: DeleteTopicsResponse;
  22: InitProducerIdResponse;
  23: OffsetForLeaderEpochResponse;
  24: AddPartitionsToTxnResponse;
  25: AddOffsetsToTxnResponse;
  26: EndTxnResponse;
  27: WriteTxnMarkersResponse;
  28: TxnOffsetCommitResponse;
  32: DescribeConfigsResponse;
  33: AlterConfigsResponse;
  37: CreatePartitionsResponse;
  42: DeleteGroupsResponse;
  44: IncrementalAlterConfigsResponse;
  1000: InternalBody;
  1001: InternalBody;
  1002: InternalBody;
  1003: InternalBody;
  1004: InternalBody;
  1010: InternalBody;
  1100: InternalBody;
}

/** An API key with an implemented codec. */
export type ImplementedApiKey = keyof RequestBodies & number;

/**
 * A decoded request. `apiKey` repeats `header.apiKey` at the top level so a
 * `switch (req.apiKey)` narrows `req.body`.
 */
export type DecodedRequest = {
  [K in ImplementedApiKey]: {
    apiKey: K;
    header: RequestHeader & { apiKey: K };
    body: RequestBodies[K];
  };
}[ImplementedApiKey];

/** A request that could not be decoded; `header` is set when the header itself was readable. */
export class RequestDecodeError extends KaError {
  override name = "RequestDecodeError";
  /** The header, when it could be read (so the server can still answer). */
  readonly header?: RequestHeader;

  /** `name` is the error table entry, usually INVALID_REQUEST or UNSUPPORTED_VERSION. */
  constructor(
    name: ErrorName,
    message: string,
    header?: RequestHeader,
    options?: ErrorOptions,
  ) {
    super(ERRORS[name].code, message, options);
    if (header !== undefined) this.header = header;
  }
}

interface Codec<Req, Res> {
  encodeRequest(w: Writer, version: number, body: Req): void;
  decodeRequest(r: Reader, version: number): Req;
  encodeResponse(w: Writer, version: number, body: Res): void;
  decodeResponse(r: Reader, version: number): Res;
}

const INTERNAL_CODEC: Codec<InternalBody, InternalBody> = {
  encodeRequest: encodeInternalBody,
  decodeRequest: decodeInternalBody,
  encodeResponse: encodeInternalBody,
  decodeResponse: decodeInternalBody,
};

const CODECS: { [K in ImplementedApiKey]: Codec<RequestBodies[K], ResponseBodies[K]> } = {
  0: {
    encodeRequest: encodeProduceRequest,
    decodeRequest: decodeProduceRequest,
    encodeResponse: encodeProduceResponse,
    decodeResponse: decodeProduceResponse,
  },
  1: {
    encodeRequest: encodeFetchRequest,
    decodeRequest: decodeFetchRequest,
    encodeResponse: encodeFetchResponse,
    decodeResponse: decodeFetchResponse,
  },
  2: {
    encodeRequest: encodeListOffsetsRequest,
    decodeRequest: decodeListOffsetsRequest,
    encodeResponse: encodeListOffsetsResponse,
    decodeResponse: decodeListOffsetsResponse,
  },
  3: {
    encodeRequest: encodeMetadataRequest,
    decodeRequest: decodeMetadataRequest,
    encodeResponse: encodeMetadataResponse,
    decodeResponse: decodeMetadataResponse,
  },
  8: {
    encodeRequest: encodeOffsetCommitRequest,
    decodeRequest: decodeOffsetCommitRequest,
    encodeResponse: encodeOffsetCommitResponse,
    decodeResponse: decodeOffsetCommitResponse,
  },
  9: {
    encodeRequest: encodeOffsetFetchRequest,
    decodeRequest: decodeOffsetFetchRequest,
    encodeResponse: encodeOffsetFetchResponse,
    decodeResponse: decodeOffsetFetchResponse,
  },
  10: {
    encodeRequest: encodeFindCoordinatorRequest,
    decodeRequest: decodeFindCoordinatorRequest,
    encodeResponse: encodeFindCoordinatorResponse,
    decodeResponse: decodeFindCoordinatorResponse,
  },
  11: {
    encodeRequest: encodeJoinGroupRequest,
    decodeRequest: decodeJoinGroupRequest,
    encodeResponse: encodeJoinGroupResponse,
    decodeResponse: decodeJoinGroupResponse,
  },
  12: {
    encodeRequest: encodeHeartbeatRequest,
    decodeRequest: decodeHeartbeatRequest,
    encodeResponse: encodeHeartbeatResponse,
    decodeResponse: decodeHeartbeatResponse,
  },
  13: {
    encodeRequest: encodeLeaveGroupRequest,
    decodeRequest: decodeLeaveGroupRequest,
    encodeResponse: encodeLeaveGroupResponse,
    decodeResponse: decodeLeaveGroupResponse,
  },
  14: {
    encodeRequest: encodeSyncGroupRequest,
    decodeRequest: decodeSyncGroupRequest,
    encodeResponse: encodeSyncGroupResponse,
    decodeResponse: decodeSyncGroupResponse,
  },
  15: {
    encodeRequest: encodeDescribeGroupsRequest,
    decodeRequest: decodeDescribeGroupsRequest,
    encodeResponse: encodeDescribeGroupsResponse,
    decodeResponse: decodeDescribeGroupsResponse,
  },
  16: {
    encodeRequest: encodeListGroupsRequest,
    decodeRequest: decodeListGroupsRequest,
    encodeResponse: encodeListGroupsResponse,
    decodeResponse: decodeListGroupsResponse,
  },
  18: {
    encodeRequest: encodeApiVersionsRequest,
    decodeRequest: decodeApiVersionsRequest,
    encodeResponse: encodeApiVersionsResponse,
    decodeResponse: decodeApiVersionsResponse,
  },
  19: {
    encodeRequest: encodeCreateTopicsRequest,
    decodeRequest: decodeCreateTopicsRequest,
    encodeResponse: encodeCreateTopicsResponse,
    decodeResponse: decodeCreateTopicsResponse,
  },
  20: {
    encodeRequest: encodeDeleteTopicsRequest,
    decodeRequest: decodeDeleteTopicsRequest,
    encodeResponse: encodeDeleteTopicsResponse,
    decodeResponse: decodeDeleteTopicsResponse,
  },
  22: {
    encodeRequest: encodeInitProducerIdRequest,
    decodeRequest: decodeInitProducerIdRequest,
    encodeResponse: encodeInitProducerIdResponse,
    decodeResponse: decodeInitProducerIdResponse,
  },
  23: {
    encodeRequest: encodeOffsetForLeaderEpochRequest,
    decodeRequest: decodeOffsetForLeaderEpochRequest,
    encodeResponse: encodeOffsetForLeaderEpochResponse,
    decodeResponse: decodeOffsetForLeaderEpochResponse,
  },
  24: {
    encodeRequest: encodeAddPartitionsToTxnRequest,
    decodeRequest: decodeAddPartitionsToTxnRequest,
    encodeResponse: encodeAddPartitionsToTxnResponse,
    decodeResponse: decodeAddPartitionsToTxnResponse,
  },
  25: {
    encodeRequest: encodeAddOffsetsToTxnRequest,
    decodeRequest: decodeAddOffsetsToTxnRequest,
    encodeResponse: encodeAddOffsetsToTxnResponse,
    decodeResponse: decodeAddOffsetsToTxnResponse,
  },
  26: {
    encodeRequest: encodeEndTxnRequest,
    decodeRequest: decodeEndTxnRequest,
    encodeResponse: encodeEndTxnResponse,
    decodeResponse: decodeEndTxnResponse,
  },
  27: {
    encodeRequest: encodeWriteTxnMarkersRequest,
    decodeRequest: decodeWriteTxnMarkersRequest,
    encodeResponse: encodeWriteTxnMarkersResponse,
    decodeResponse: decodeWriteTxnMarkersResponse,
  },
  28: {
    encodeRequest: encodeTxnOffsetCommitRequest,
    decodeRequest: decodeTxnOffsetCommitRequest,
    encodeResponse: encodeTxnOffsetCommitResponse,
    decodeResponse: decodeTxnOffsetCommitResponse,
  },
  32: {
    encodeRequest: encodeDescribeConfigsRequest,
    decodeRequest: decodeDescribeConfigsRequest,
    encodeResponse: encodeDescribeConfigsResponse,
    decodeResponse: decodeDescribeConfigsResponse,
  },
  33: {
    encodeRequest: encodeAlterConfigsRequest,
    decodeRequest: decodeAlterConfigsRequest,
    encodeResponse: encodeAlterConfigsResponse,
    decodeResponse: decodeAlterConfigsResponse,
  },
  37: {
    encodeRequest: encodeCreatePartitionsRequest,
    decodeRequest: decodeCreatePartitionsRequest,
    encodeResponse: encodeCreatePartitionsResponse,
    decodeResponse: decodeCreatePartitionsResponse,
  },
  42: {
    encodeRequest: encodeDeleteGroupsRequest,
    decodeRequest: decodeDeleteGroupsRequest,
    encodeResponse: encodeDeleteGroupsResponse,
    decodeResponse: decodeDeleteGroupsResponse,
  },
  44: {
    encodeRequest: encodeIncrementalAlterConfigsRequest,
    decodeRequest: decodeIncrementalAlterConfigsRequest,
    encodeResponse: encodeIncrementalAlterConfigsResponse,
    decodeResponse: decodeIncrementalAlterConfigsResponse,
  },
  1000: INTERNAL_CODEC,
  1001: INTERNAL_CODEC,
  1002: INTERNAL_CODEC,
  1003: INTERNAL_CODEC,
  1004: INTERNAL_CODEC,
  1010: INTERNAL_CODEC,
  1100: INTERNAL_CODEC,
};

for (const key of SUPPORTED_VERSIONS.keys()) {
  assert(Object.hasOwn(CODECS, key), `supported API ${apiName(key)} must have a codec`);
}
for (const key of Object.keys(CODECS)) {
  assert(SUPPORTED_VERSIONS.has(Number(key)), `codec for API ${key} must have versions`);
}

/** True when `key` has a codec here (and so versions in SUPPORTED_VERSIONS). */
export function isImplementedApiKey(key: number): key is ImplementedApiKey {
  return Object.hasOwn(CODECS, key);
}

function codecFor<K extends ImplementedApiKey>(
  key: K,
): Codec<RequestBodies[K], ResponseBodies[K]> {
  return CODECS[key] as Codec<RequestBodies[K], ResponseBodies[K]>;
}

function checkEncodable(apiKey: number, apiVersion: number): void {
  if (!isImplementedApiKey(apiKey) || !isSupportedVersion(apiKey, apiVersion)) {
    const range = SUPPORTED_VERSIONS.get(apiKey);
    throw KaError.of(
      "UNSUPPORTED_VERSION",
      `Cannot encode ${apiName(apiKey)} v${apiVersion} as the version must be ${
        range ? `${range.min}-${range.max}` : "one we implement (none for this key)"
      }`,
    );
  }
}

function finishFrame(w: Writer, what: string): Uint8Array {
  const frameBytes = w.length - FRAME_LENGTH_BYTES;
  if (frameBytes > FRAME_BYTES_MAX) {
    throw KaError.of(
      "FRAME_TOO_LARGE",
      `Cannot send ${what} as a frame must be at most ${FRAME_BYTES_MAX} bytes: current value is ${frameBytes}`,
    );
  }
  w.patchInt32(0, frameBytes);
  return w.finish();
}

/** Encodes a whole request frame, including the 4-byte length prefix. */
export function encodeRequest<K extends ImplementedApiKey>(
  header: RequestHeader & { apiKey: K },
  body: RequestBodies[K],
): Uint8Array {
  checkEncodable(header.apiKey, header.apiVersion);
  const w = new Writer(512);
  w.int32(0); // Length prefix, patched by finishFrame.
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  w.nullableString(header.clientId);
  if (requestHeaderVersion(header.apiKey, header.apiVersion) === 2) w.emptyTaggedFields();
  codecFor(header.apiKey).encodeRequest(w, header.apiVersion, body);
  return finishFrame(w, `${apiName(header.apiKey)} request`);
}

/**
 * Reads the request header from `frame` (the bytes after the length prefix):
 * v1, or v2 (v1 + tagged fields, skipped) for a flexible version we
 * implement. For a version we do not implement only the v1 part is read,
 * which is all an UNSUPPORTED_VERSION answer needs. Throws
 * {@linkcode RequestDecodeError} INVALID_REQUEST when it is cut.
 */
export function decodeRequestHeader(
  frame: Uint8Array,
): { header: RequestHeader; bodyOffset: number } {
  const r = new Reader(frame, 0, "INVALID_REQUEST");
  try {
    const header: RequestHeader = {
      apiKey: r.int16(),
      apiVersion: r.int16(),
      correlationId: r.int32(),
      clientId: r.nullableString(),
    };
    if (
      isSupportedVersion(header.apiKey, header.apiVersion) &&
      requestHeaderVersion(header.apiKey, header.apiVersion) === 2
    ) {
      r.skipTaggedFields();
    }
    return { header, bodyOffset: r.offset };
  } catch (err) {
    if (isKaError(err)) {
      throw new RequestDecodeError("INVALID_REQUEST", `Cannot read request header: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Decodes a request frame (the bytes after the length prefix). Throws
 * {@linkcode RequestDecodeError}: UNSUPPORTED_VERSION for an API key or
 * version we do not implement, INVALID_REQUEST for a malformed header or body.
 * Bytes after the body are ignored, as newer clients may append fields.
 */
export function decodeRequest(frame: Uint8Array): DecodedRequest {
  const { header, bodyOffset } = decodeRequestHeader(frame);
  const { apiKey, apiVersion } = header;
  if (!isImplementedApiKey(apiKey) || !isSupportedVersion(apiKey, apiVersion)) {
    const range = SUPPORTED_VERSIONS.get(apiKey);
    throw new RequestDecodeError(
      "UNSUPPORTED_VERSION",
      range === undefined
        ? `Cannot handle API key ${apiKey}: it is not implemented`
        : `Cannot handle ${
          apiName(apiKey)
        } v${apiVersion} as the version must be ${range.min}-${range.max}`,
      header,
    );
  }
  const r = new Reader(frame, bodyOffset, "INVALID_REQUEST");
  let body: unknown;
  try {
    body = codecFor(apiKey).decodeRequest(r, apiVersion);
  } catch (err) {
    if (isKaError(err)) {
      throw new RequestDecodeError(
        "INVALID_REQUEST",
        `Cannot decode ${apiName(apiKey)} v${apiVersion} request: ${err.message}`,
        header,
        { cause: err },
      );
    }
    throw err;
  }
  return { apiKey, header, body } as DecodedRequest;
}

/**
 * Encodes a whole response frame (length prefix, response header v0 — v1 for
 * a flexible version other than ApiVersions — and body).
 */
export function encodeResponse<K extends ImplementedApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseBodies[K],
): Uint8Array {
  checkEncodable(apiKey, apiVersion);
  const w = new Writer(512 + recordBytesOf(apiKey, body));
  w.int32(0); // Length prefix, patched by finishFrame.
  w.int32(correlationId);
  if (responseHeaderVersion(apiKey, apiVersion) === 1) w.emptyTaggedFields();
  codecFor(apiKey).encodeResponse(w, apiVersion, body);
  return finishFrame(w, `${apiName(apiKey)} response`);
}

/**
 * The record bytes a Fetch response carries (0 for other APIs): sizes its
 * buffer up front, so the records are copied once, not again at every doubling.
 */
function recordBytesOf(apiKey: number, body: unknown): number {
  if (apiKey !== ApiKey.Fetch) return 0;
  let bytes = 0;
  for (const t of (body as FetchResponse).responses) {
    for (const p of t.partitions) bytes += (p.records?.length ?? 0) + 64;
  }
  return bytes;
}

/**
 * Decodes a response frame (the bytes after the length prefix) for the
 * request it answers. Throws KaError INVALID_REQUEST when it is malformed.
 */
export function decodeResponse<K extends ImplementedApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Uint8Array,
): { correlationId: number; body: ResponseBodies[K] } {
  checkEncodable(apiKey, apiVersion);
  const r = new Reader(frame, 0, "INVALID_REQUEST");
  const correlationId = r.int32();
  if (responseHeaderVersion(apiKey, apiVersion) === 1) r.skipTaggedFields();
  const body = codecFor(apiKey).decodeResponse(r, apiVersion);
  return { correlationId, body };
}

/** The correlation id of a response frame (its first 4 bytes), to match it to its request. */
export function peekCorrelationId(frame: Uint8Array): number {
  return new Reader(frame, 0, "INVALID_REQUEST").int32();
}
