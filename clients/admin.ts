/**
 * Topic administration: create, list, describe, delete. Requests go to any
 * broker (which forwards them to the coordinator) or to the coordinator.
 *
 * Also a consumer group's committed offsets outside the group protocol:
 * {@linkcode Admin.fetchOffsets} (OffsetFetch) and
 * {@linkcode Admin.commitOffsets} (a standalone OffsetCommit, generation −1,
 * which the coordinator accepts only while the group has no members — what
 * an offset reset needs).
 * @module
 */
import { KaError } from "@kafka-analog/lib/errors";
import type { KafkaConnection } from "@kafka-analog/lib/net";
import { ApiKey, ERRORS } from "@kafka-analog/lib/protocol";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import type { CreateTopicOptions, TopicDescription } from "./types.ts";

/** A group's committed offset of one partition; `offset` is null when none is committed. */
export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: bigint | null;
}

/** The group-protocol versions the admin speaks (as the group consumer does). */
const GROUP_VERSIONS = { findCoordinator: 2, offsetCommit: 7, offsetFetch: 5 } as const;

/** Admin operations on topics. */
export class Admin {
  #cluster: ClusterView;

  constructor(cluster: ClusterView) {
    this.#cluster = cluster;
  }

  /** Creates a topic; partitions and replication factor default to the cluster's config. */
  async createTopic(options: CreateTopicOptions): Promise<TopicDescription> {
    const conn = await this.#cluster.anyConnection();
    const response = await conn.request(ApiKey.CreateTopics, VERSIONS.createTopics, {
      topics: [{
        name: options.name,
        numPartitions: options.partitions ?? -1,
        replicationFactor: options.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(options.configs ?? {}).map(([name, value]) => ({ name, value })),
      }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    throwIfError(result.errorCode, `Cannot create topic '${options.name}'`, result.errorMessage);
    return {
      ...(await this.#cluster.topic(options.name, { refresh: true })),
      configs: { ...options.configs },
    };
  }

  /** Deletes a topic and its data. */
  async deleteTopic(name: string): Promise<void> {
    const conn = await this.#cluster.anyConnection();
    const response = await conn.request(ApiKey.DeleteTopics, VERSIONS.deleteTopics, {
      topicNames: [name],
      timeoutMs: 30_000,
    });
    throwIfError(response.responses[0].errorCode, `Cannot delete topic '${name}'`);
    await this.#cluster.refresh();
  }

  /** Names of every topic. */
  async listTopics(): Promise<string[]> {
    return (await this.#cluster.topics()).map((t) => t.name);
  }

  /** Every topic with its partitions. */
  async describeTopics(): Promise<TopicDescription[]> {
    return await this.#cluster.topics();
  }

  /** One topic's partitions, leaders, replicas and ISR. */
  async describeTopic(name: string): Promise<TopicDescription> {
    return await this.#cluster.topic(name, { refresh: true });
  }

  /**
   * The offsets group `groupId` committed for `partitions` (every partition
   * it has offsets for when absent); `offset` is null where none is committed.
   */
  async fetchOffsets(
    groupId: string,
    partitions?: { topic: string; partition: number }[],
  ): Promise<CommittedOffset[]> {
    const conn = await this.#groupCoordinator(groupId);
    const byTopic = new Map<string, number[]>();
    for (const p of partitions ?? []) {
      byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
    }
    const response = await conn.request(ApiKey.OffsetFetch, GROUP_VERSIONS.offsetFetch, {
      groupId,
      topics: partitions === undefined
        ? null
        : [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
    });
    throwIfError(response.errorCode ?? 0, `Cannot fetch the offsets of group '${groupId}'`);
    const out: CommittedOffset[] = [];
    for (const t of response.topics) {
      for (const p of t.partitions) {
        throwIfError(
          p.errorCode,
          `Cannot fetch the offset of ${t.name}-${p.partitionIndex} for group '${groupId}'`,
        );
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset < 0n ? null : p.committedOffset,
        });
      }
    }
    return out;
  }

  /**
   * Commits `offsets` for group `groupId` outside the group protocol
   * (generation −1). The coordinator refuses it while the group has members:
   * that is NON_EMPTY_GROUP here.
   */
  async commitOffsets(
    groupId: string,
    offsets: { topic: string; partition: number; offset: bigint }[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    const conn = await this.#groupCoordinator(groupId);
    const byTopic = new Map<
      string,
      { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }[]
    >();
    for (const o of offsets) {
      byTopic.set(o.topic, [
        ...(byTopic.get(o.topic) ?? []),
        { partitionIndex: o.partition, committedOffset: o.offset, committedMetadata: null },
      ]);
    }
    const response = await conn.request(ApiKey.OffsetCommit, GROUP_VERSIONS.offsetCommit, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    });
    for (const t of response.topics) {
      for (const p of t.partitions) {
        // A standalone commit to a group with members is answered UNKNOWN_MEMBER_ID.
        if (p.errorCode === ERRORS.UNKNOWN_MEMBER_ID.code) {
          throw KaError.of(
            "NON_EMPTY_GROUP",
            `Cannot commit offsets of group '${groupId}' outside the group while it has members: stop them first`,
          );
        }
        throwIfError(
          p.errorCode,
          `Cannot commit ${t.name}-${p.partitionIndex} for group '${groupId}'`,
        );
      }
    }
  }

  /** A connection to the coordinator of `groupId` (FindCoordinator through any broker). */
  async #groupCoordinator(groupId: string): Promise<KafkaConnection> {
    if (groupId === "") throw KaError.of("INVALID_GROUP_ID", "groupId must not be empty");
    const any = await this.#cluster.anyConnection();
    const found = await any.request(ApiKey.FindCoordinator, GROUP_VERSIONS.findCoordinator, {
      key: groupId,
      keyType: 0,
    });
    throwIfError(
      found.errorCode,
      `Cannot find the coordinator of group '${groupId}'`,
      found.errorMessage,
    );
    return await this.#cluster.connection(`${found.host}:${found.port}`);
  }
}
