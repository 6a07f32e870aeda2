/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written
 * by hand: counters, gauges and histograms with labels, and a registry that
 * renders them for `GET /metrics`. No dependency and no permissions.
 *
 * Label values come only from bounded sets (route patterns, status codes,
 * error names from the tables, formats), so the series count stays bounded.
 * @module
 */

/** Label names to values of one series. */
export type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function seriesKey(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return names.map((n) => `${n}="${escapeLabel(labels[n])}"`).join(",");
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

function line(name: string, key: string, value: number): string {
  return `${name}${key === "" ? "" : `{${key}}`} ${formatValue(value)}`;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(): string[];
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly type = "counter";
  readonly name: string;
  readonly help: string;
  #values = new Map<string, number>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  /** Adds `by` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** The current value of the series of `labels` (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(seriesKey(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.#values].map(([key, value]) => line(this.name, key, value));
  }
}

/** A value read when the metrics are rendered. */
export class Gauge implements Metric {
  readonly type = "gauge";
  readonly name: string;
  readonly help: string;
  #read: () => number;

  constructor(name: string, help: string, read: () => number) {
    this.name = name;
    this.help = help;
    this.#read = read;
  }

  render(): string[] {
    return [line(this.name, "", this.#read())];
  }
}

/** Observations counted into cumulative buckets per label set, with sum and count. */
export class Histogram implements Metric {
  readonly type = "histogram";
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  #series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  /** Records `value` in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const key = seriesKey(labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]) series.counts[i]++;
    }
    series.sum += value;
    series.count++;
  }

  render(): string[] {
    const out: string[] = [];
    for (const [key, series] of this.#series) {
      const sep = key === "" ? "" : ",";
      this.buckets.forEach((le, i) => {
        out.push(line(`${this.name}_bucket`, `${key}${sep}le="${le}"`, series.counts[i]));
      });
      out.push(line(`${this.name}_bucket`, `${key}${sep}le="+Inf"`, series.count));
      out.push(line(`${this.name}_sum`, key, series.sum));
      out.push(line(`${this.name}_count`, key, series.count));
    }
    return out;
  }
}

/** Latency buckets in seconds, from 1 ms to 30 s (long polls). */
export const LATENCY_BUCKETS_SECONDS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** The metrics of one gateway process. */
export class MetricsRegistry {
  #metrics: Metric[] = [];

  /** Registers and returns a counter. */
  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  /** Registers and returns a gauge read by `read` at render time. */
  gauge(name: string, help: string, read: () => number): Gauge {
    return this.#add(new Gauge(name, help, read));
  }

  /** Registers and returns a histogram. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  #add<M extends Metric>(metric: M): M {
    if (this.#metrics.some((m) => m.name === metric.name)) {
      throw new Error(`metric '${metric.name}' is registered twice`);
    }
    this.#metrics.push(metric);
    return metric;
  }

  /** Every metric in the text exposition format. */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      out.push(...m.render());
    }
    return out.join("\n") + "\n";
  }
}

/** The metrics both gateways keep. */
export interface GatewayMetrics {
  readonly registry: MetricsRegistry;
  /** Requests by method, route pattern and status. */
  readonly requests: Counter;
  /** Request latency by method and route pattern. */
  readonly requestSeconds: Histogram;
  /** Error answers by error name. */
  readonly errors: Counter;
  /** Messages written, by format and acks. */
  readonly produced: Counter;
  /** Messages a produce request could not write, by error name. */
  readonly produceErrors: Counter;
  /** Messages handed to clients, by path (subscription, stream, partition). */
  readonly consumed: Counter;
}

/** A registry with the shared gateway metrics (plus process memory). */
export function createGatewayMetrics(): GatewayMetrics {
  const registry = new MetricsRegistry();
  const metrics: GatewayMetrics = {
    registry,
    requests: registry.counter(
      "gateway_http_requests_total",
      "HTTP requests answered, by method, route and status.",
    ),
    requestSeconds: registry.histogram(
      "gateway_http_request_duration_seconds",
      "HTTP request latency in seconds, by method and route.",
      LATENCY_BUCKETS_SECONDS,
    ),
    errors: registry.counter("gateway_http_errors_total", "Error answers, by error name."),
    produced: registry.counter(
      "gateway_messages_produced_total",
      "Messages written to the cluster, by format and acks.",
    ),
    produceErrors: registry.counter(
      "gateway_produce_errors_total",
      "Messages a produce request could not write, by error name.",
    ),
    consumed: registry.counter(
      "gateway_messages_consumed_total",
      "Messages handed to clients, by path (subscription, stream, partition).",
    ),
  };
  registry.gauge(
    "gateway_process_resident_memory_bytes",
    "Resident set size of the gateway process.",
    () => Deno.memoryUsage().rss,
  );
  registry.gauge(
    "gateway_process_heap_used_bytes",
    "V8 heap in use by the gateway process.",
    () => Deno.memoryUsage().heapUsed,
  );
  return metrics;
}
