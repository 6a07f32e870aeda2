/**
 * Topic administration: create, list, describe, delete. Requests go to any
 * broker (which forwards them to the coordinator) or to the coordinator.
 * @module
 */
import { ApiKey } from "@kafka-analog/lib/protocol";
import { type ClusterView, throwIfError, VERSIONS } from "./cluster.ts";
import type { CreateTopicOptions, TopicDescription } from "./types.ts";

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
}
