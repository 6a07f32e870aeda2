/**
 * ClusterView metadata refresh: a bootstrap broker that accepts connections
 * but never answers (SIGSTOPped, or cut off) does not block the refresh; the
 * next address is asked (found by the chaos harness, scenario 3). An answer
 * without a leader for a partition (a fenced broker's) or with an older
 * leader epoch than adopted (KIP-320) sends the refresh to the next address
 * (scenario 4).
 * @module
 */
import assert from "node:assert/strict";
import type { ClusterSnapshot, PartitionState } from "@kafka-analog/lib/cluster";
import { buildApiVersionsResponse, buildMetadataResponse } from "@kafka-analog/lib/metadata";
import { type FrameServer, serveFrames } from "@kafka-analog/lib/net";
import { ApiKey, decodeRequest, encodeResponse } from "@kafka-analog/lib/protocol";
import { ClusterView } from "./cluster.ts";
import { MockBroker } from "./_mock_broker.ts";

Deno.test({
  name: "ClusterView.refresh() asks the next bootstrap address when the first does not answer",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // Accepts and reads, never answers: like a paused process (the kernel still accepts).
    const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for (;;) {
        const conn = await silent.accept().catch(() => null);
        if (!conn) return;
        held.push(conn);
      }
    })();
    const broker = MockBroker.start({ topics: { t: 2 } });
    const view = new ClusterView({
      bootstrap: [`127.0.0.1:${(silent.addr as Deno.NetAddr).port}`, broker.address],
      clientId: "cluster-test",
    });
    try {
      const started = performance.now();
      await view.refresh();
      assert.equal((await view.topic("t")).partitions.length, 2);
      assert.ok(performance.now() - started < 15_000, "within the failover timeout");
    } finally {
      for (const c of view.options.bootstrap) (await view.connection(c).catch(() => null))?.close();
      silent.close();
      await accepting;
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await broker.close();
    }
  },
});

/** A loopback node that answers Metadata with the partitions of topic "t" it is given. */
class ScriptedNode {
  partitions: PartitionState[] = [];
  metadataRequests = 0;
  readonly address: string;
  #server: FrameServer;

  constructor(readonly id: number, readonly peers: () => ScriptedNode[]) {
    this.#server = serveFrames((frame) => {
      const request = decodeRequest(frame);
      const { apiVersion, correlationId } = request.header;
      if (request.apiKey === ApiKey.ApiVersions) {
        return Promise.resolve(
          encodeResponse(
            ApiKey.ApiVersions,
            apiVersion,
            correlationId,
            buildApiVersionsResponse([ApiKey.Metadata, ApiKey.ApiVersions]),
          ),
        );
      }
      if (request.apiKey !== ApiKey.Metadata) throw new Error("only Metadata is scripted");
      this.metadataRequests++;
      const snapshot: ClusterSnapshot = {
        clusterId: "scripted",
        version: 1,
        controllerId: 0,
        brokers: this.peers().map((n) => ({ id: n.id, host: "127.0.0.1", port: n.port })),
        topics: [{ name: "t", configs: {}, partitions: this.partitions }],
      };
      return Promise.resolve(
        encodeResponse(
          ApiKey.Metadata,
          apiVersion,
          correlationId,
          buildMetadataResponse(snapshot, request.body),
        ),
      );
    }, { hostname: "127.0.0.1", port: 0 });
    this.address = `127.0.0.1:${this.#server.port}`;
  }

  get port(): number {
    return this.#server.port;
  }

  async close(): Promise<void> {
    this.#server.close();
    await this.#server.closed;
  }
}

function partitionsLedBy(leader: number, leaderEpoch: number): PartitionState[] {
  return [
    { partition: 0, leader, leaderEpoch, replicas: [0, 1], isr: [0, 1] },
    { partition: 1, leader: 1, leaderEpoch: 2, replicas: [1, 0], isr: [1, 0] },
  ];
}

Deno.test({
  name:
    "ClusterView.refresh() asks the next address when an answer names no leader or an older leader epoch",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const nodes: ScriptedNode[] = [];
    nodes.push(new ScriptedNode(0, () => nodes), new ScriptedNode(1, () => nodes));
    const [zombie, other] = nodes;
    const view = new ClusterView({
      bootstrap: [zombie.address, other.address],
      clientId: "cluster-test",
    });
    const p0 = async () => {
      const p = (await view.topic("t")).partitions[0];
      return { leader: p.leader, leaderEpoch: p.leaderEpoch };
    };
    try {
      // Everyone agrees: the first address's answer is adopted, the second is not asked.
      zombie.partitions = partitionsLedBy(0, 3);
      other.partitions = partitionsLedBy(0, 3);
      await view.refresh();
      assert.deepEqual(await p0(), { leader: 0, leaderEpoch: 3 });
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [1, 0]);

      // Node 0 is fenced (no leader for the partition it led); node 1 knows the new leader.
      zombie.partitions = partitionsLedBy(-1, 3);
      other.partitions = partitionsLedBy(1, 4);
      await view.refresh();
      assert.deepEqual(await p0(), { leader: 1, leaderEpoch: 4 });
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [2, 1]);

      // Node 0 claims the partition again under the old epoch: not adopted (KIP-320).
      zombie.partitions = partitionsLedBy(0, 3);
      await view.refresh();
      assert.deepEqual(await p0(), { leader: 1, leaderEpoch: 4 });
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [3, 2]);

      // A newer epoch from the first address is adopted at once.
      zombie.partitions = partitionsLedBy(0, 5);
      await view.refresh();
      assert.deepEqual(await p0(), { leader: 0, leaderEpoch: 5 });
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [4, 2]);

      // No address knows better (the topic was created again, its epochs restarted): every
      // address is asked, the first of the answers with the fewest such partitions is adopted
      // and becomes the new reference.
      zombie.partitions = partitionsLedBy(1, 0);
      other.partitions = partitionsLedBy(1, 0);
      await view.refresh();
      assert.deepEqual(await p0(), { leader: 1, leaderEpoch: 0 });
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [5, 3]);
      await view.refresh();
      assert.deepEqual([zombie.metadataRequests, other.metadataRequests], [6, 3]);

      // Only an answer without a leader is reachable: it is adopted rather than failing the
      // refresh (the producer retries as during any election).
      zombie.partitions = partitionsLedBy(-1, 0);
      await other.close();
      await view.refresh();
      assert.deepEqual(await p0(), { leader: -1, leaderEpoch: 0 });
      assert.equal(zombie.metadataRequests, 7);
    } finally {
      await view.close();
      for (const n of nodes) await n.close().catch(() => {});
    }
  },
});
