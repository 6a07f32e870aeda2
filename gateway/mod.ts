/**
 * The HTTP gateways of kafka-analog, as libraries: the writer (produce,
 * topic admin, schemas) and the reader (subscriptions, offsets, WebSocket
 * streams) Hono apps, the {@linkcode GatewayCluster} they run on, and the
 * adapter that builds one from the client library. The processes are
 * `main_writer.ts` and `main_reader.ts`.
 * @module
 */
export type { GatewayCluster, MessageSource } from "./shared/cluster.ts";
export { type GatewayAppOptions } from "./shared/http.ts";
export {
  type ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterClient,
  type ClusterConnections,
  createClusterAdapter,
  libraryConnections,
} from "./shared/cluster_client.ts";
export { createWriterApp, type WriterAppOptions } from "./writer/app.ts";
export { createReaderApp, type ReaderAppOptions, type ReaderGateway } from "./reader/app.ts";
