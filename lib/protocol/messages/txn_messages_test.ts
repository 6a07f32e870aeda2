/**
 * Hand-checked layouts of the transaction messages, byte by byte against
 * Kafka's JSON definitions (the generic round-trip, truncation and fuzz tests
 * in `mod_test.ts` cover every version of every API, but cannot tell a field
 * order we made up from Kafka's).
 * @module
 */
import assert from "node:assert/strict";
import { Reader, Writer } from "../codec.ts";
import {
  decodeAddOffsetsToTxnResponse,
  encodeAddOffsetsToTxnRequest,
} from "./add_offsets_to_txn.ts";
import {
  decodeAddPartitionsToTxnResponse,
  encodeAddPartitionsToTxnRequest,
} from "./add_partitions_to_txn.ts";
import { decodeEndTxnRequest, encodeEndTxnRequest } from "./end_txn.ts";
import { decodeTxnOffsetCommitRequest, encodeTxnOffsetCommitRequest } from "./txn_offset_commit.ts";
import {
  decodeWriteTxnMarkersResponse,
  encodeWriteTxnMarkersRequest,
} from "./write_txn_markers.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

Deno.test("AddPartitionsToTxn v0-2 request: id, producer id, epoch, topics [name, [int32]]", () => {
  for (const v of [0, 1, 2]) {
    const w = new Writer();
    encodeAddPartitionsToTxnRequest(w, v, {
      v3AndBelowTransactionalId: "t",
      v3AndBelowProducerId: 5n,
      v3AndBelowProducerEpoch: 2,
      v3AndBelowTopics: [{ name: "a", partitions: [1, 3] }],
    });
    assert.equal(
      hex(w.finish()),
      "000174" + "0000000000000005" + "0002" + "00000001" + "000161" + "00000002" +
        "00000001" + "00000003",
    );
  }
});

Deno.test("AddPartitionsToTxn v0-2 response: throttle, topics [name, [partition, error]]", () => {
  const bytes = fromHex("0000000a" + "00000001" + "000161" + "00000001" + "00000003" + "005a");
  assert.deepEqual(decodeAddPartitionsToTxnResponse(new Reader(bytes), 2), {
    throttleTimeMs: 10,
    resultsByTopicV3AndBelow: [{
      name: "a",
      resultsByPartition: [{ partitionIndex: 3, partitionErrorCode: 90 }],
    }],
  });
});

Deno.test("AddOffsetsToTxn: request id, producer id, epoch, group; response throttle, error", () => {
  const w = new Writer();
  encodeAddOffsetsToTxnRequest(w, 2, {
    transactionalId: "t",
    producerId: -1n,
    producerEpoch: -1,
    groupId: "g",
  });
  assert.equal(hex(w.finish()), "000174" + "ffffffffffffffff" + "ffff" + "000167");
  assert.deepEqual(decodeAddOffsetsToTxnResponse(new Reader(fromHex("00000000" + "0033")), 0), {
    throttleTimeMs: 0,
    errorCode: 51,
  });
});

Deno.test("EndTxn request ends with a one-byte committed flag", () => {
  const w = new Writer();
  encodeEndTxnRequest(w, 0, {
    transactionalId: "t",
    producerId: 1n,
    producerEpoch: 0,
    committed: true,
  });
  const bytes = w.finish();
  assert.equal(hex(bytes), "000174" + "0000000000000001" + "0000" + "01");
  const aborted = fromHex("000174" + "0000000000000001" + "0000" + "00");
  assert.equal(decodeEndTxnRequest(new Reader(aborted), 1).committed, false);
});

Deno.test("WriteTxnMarkers v0: markers [pid, epoch, result, topics, coordinatorEpoch]", () => {
  const w = new Writer();
  encodeWriteTxnMarkersRequest(w, 0, {
    markers: [{
      producerId: 7n,
      producerEpoch: 1,
      transactionResult: false,
      topics: [{ name: "a", partitionIndexes: [0] }],
      coordinatorEpoch: 4,
    }],
  });
  assert.equal(
    hex(w.finish()),
    "00000001" + "0000000000000007" + "0001" + "00" + "00000001" + "000161" + "00000001" +
      "00000000" + "00000004",
  );
  const res = fromHex(
    "00000001" + "0000000000000007" + "00000001" + "000161" + "00000001" + "00000000" + "0000",
  );
  assert.deepEqual(decodeWriteTxnMarkersResponse(new Reader(res), 0), {
    markers: [{
      producerId: 7n,
      topics: [{ name: "a", partitions: [{ partitionIndex: 0, errorCode: 0 }] }],
    }],
  });
});

Deno.test("TxnOffsetCommit writes committedLeaderEpoch only from v2", () => {
  const body = {
    transactionalId: "t",
    groupId: "g",
    producerId: 2n,
    producerEpoch: 1,
    topics: [{
      name: "a",
      partitions: [{
        partitionIndex: 0,
        committedOffset: 9n,
        committedLeaderEpoch: 6,
        committedMetadata: null,
      }],
    }],
  };
  const head = "000174" + "000167" + "0000000000000002" + "0001" + "00000001" + "000161" +
    "00000001" + "00000000" + "0000000000000009";
  const v1 = new Writer();
  encodeTxnOffsetCommitRequest(v1, 1, body);
  assert.equal(hex(v1.finish()), head + "ffff");
  const v2 = new Writer();
  encodeTxnOffsetCommitRequest(v2, 2, body);
  assert.equal(hex(v2.finish()), head + "00000006" + "ffff");
  assert.equal(
    decodeTxnOffsetCommitRequest(new Reader(v1.finish()), 1).topics[0].partitions[0]
      .committedLeaderEpoch,
    -1,
  );
});
