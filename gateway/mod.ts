/**
 * The HTTP gateways of kafka-analog, as libraries: the writer (produce,
 * topic admin) and the reader (messages, offsets) Hono apps, the
 * {@linkcode GatewayCluster} they run on, and the adapter that builds one
 * from the client library. The processes are `main_writer.ts` and
 * `main_reader.ts`.
 * @module
 */
export type { GatewayCluster } from "./shared/cluster.ts";
export { type GatewayAppOptions } from "./shared/http.ts";
export {
  type ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterClient,
  createClusterAdapter,
} from "./shared/cluster_client.ts";
export { createWriterApp, type WriterAppOptions } from "./writer/app.ts";
export { createReaderApp, type ReaderAppOptions } from "./reader/app.ts";
