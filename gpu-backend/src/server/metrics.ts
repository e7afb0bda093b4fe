/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with labels,
 * plus the backend's own metric set. Written here rather than pulling in prom-client: the service needs four
 * metric kinds and no default process collectors.
 * @module
 */

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function keyOf(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Metric {
  readonly name: string;
  expose(): string;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    const k = keyOf(labels);
    const cur = this.#values.get(k) ?? { labels, value: 0 };
    cur.value += by;
    this.#values.set(k, cur);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(keyOf(labels))?.value ?? 0;
  }
  expose(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

/** A value that goes up and down, or is read from a callback at scrape time. */
export class Gauge implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  readonly #collect: (() => number) | undefined;
  constructor(
    readonly name: string,
    readonly help: string,
    collect?: () => number,
  ) {
    this.#collect = collect;
  }
  set(value: number, labels: Labels = {}): void {
    this.#values.set(keyOf(labels), { labels, value });
  }
  expose(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.#collect) lines.push(`${this.name} ${formatNumber(this.#collect())}`);
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join('\n');
  }
}

/** Cumulative-bucket histogram per label set. */
export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];
  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const k = keyOf(labels);
    const s = this.#series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]! += 1;
    });
    s.sum += value;
    s.count += 1;
    this.#series.set(k, s);
  }
  /** Number of observations for a label set. */
  count(labels: Labels = {}): number {
    return this.#series.get(keyOf(labels))?.count ?? 0;
  }
  expose(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.buckets.forEach((b, i) => {
        lines.push(`${this.name}_bucket${labelText(labels, ['le', formatNumber(b)])} ${counts[i]}`);
      });
      lines.push(`${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatNumber(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join('\n');
  }
}

/** Content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Stages whose latency is recorded in `gpu_backend_stage_seconds`. */
export type Stage = 'queue' | 'inference' | 'encode' | 'upload' | 'callback' | 'total';

/** Error kinds counted in `gpu_backend_errors_total`. */
export type ErrorKind = 'pipeline' | 'encode' | 'upload' | 'callback' | 'auth' | 'validation' | 'queue_full' | 'fatal' | 'fleet';

/** Live state the registry's gauges read at scrape time. */
export interface MetricsState {
  queueDepth: () => number;
  running: () => number;
  status?: () => string;
  /** Unfinished leased jobs (queued or running). */
  leasesHeld?: () => number;
  /** Most leased jobs the backend holds at once. */
  leaseCapacity?: () => number;
}

/** The backend's metrics. Gauges that mirror live state read it through callbacks at scrape time. */
export class BackendMetricsRegistry {
  readonly queueDepth: Gauge;
  readonly running: Gauge;
  readonly batchSize = new Histogram('gpu_backend_batch_size', 'Images per pipeline run', [1, 2, 4, 8, 16, 32, 64]);
  readonly stageSeconds = new Histogram(
    'gpu_backend_stage_seconds',
    'Latency of each stage of a prediction',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  );
  readonly unetSteps = new Counter(
    'gpu_backend_unet_steps_total',
    'U-Net evaluations per prediction step, by kind (full or shallow DeepCache)',
  );
  readonly predictions = new Counter('gpu_backend_predictions_total', 'Predictions finished, by terminal status');
  readonly errors = new Counter('gpu_backend_errors_total', 'Errors by kind');
  readonly callbackDeliveries = new Counter('gpu_backend_callback_deliveries_total', 'Callback POSTs by outcome');

  readonly leasesHeld: Gauge;
  readonly leaseCapacity: Gauge;
  readonly leasesReceived = new Counter('gpu_backend_leases_received_total', 'Jobs received under a lease, by model');
  readonly leasesReleased = new Counter(
    'gpu_backend_leases_released_total',
    'Leases handed back unrun, by reason and outcome (released, unreachable)',
  );
  readonly leaseActions = new Counter(
    'gpu_backend_lease_actions_total',
    'Heartbeat answers per lease, by action (continue, cancel, abort, lost)',
  );
  readonly fleetRequests = new Counter(
    'gpu_backend_fleet_requests_total',
    'Requests to the edge fleet endpoints, by endpoint and outcome (ok, error)',
  );

  readonly health = new Gauge('gpu_backend_health_status', 'Health state: 1 for the current status, 0 for the others');

  readonly #state: MetricsState;

  constructor(state: MetricsState) {
    this.#state = state;
    this.queueDepth = new Gauge('gpu_backend_queue_depth', 'Predictions waiting in the queue', state.queueDepth);
    this.running = new Gauge('gpu_backend_running', 'Predictions in the running batch', state.running);
    this.leasesHeld = new Gauge('gpu_backend_leases_held', 'Leased jobs held (queued or running)', state.leasesHeld ?? (() => 0));
    this.leaseCapacity = new Gauge(
      'gpu_backend_lease_capacity',
      'Most leased jobs held at once (QUEUE_CAPACITY + MAX_BATCH_SIZE)',
      state.leaseCapacity ?? (() => 0),
    );
  }

  /** The whole registry in Prometheus text format (ends with a newline). */
  expose(): string {
    if (this.#state.status) {
      const current = this.#state.status();
      for (const status of ['STARTING', 'READY', 'BUSY', 'SETUP_FAILED', 'DEFUNCT'])
        this.health.set(status === current ? 1 : 0, { status });
    }
    const all: Metric[] = [
      this.health,
      this.queueDepth,
      this.running,
      this.leasesHeld,
      this.leaseCapacity,
      this.batchSize,
      this.stageSeconds,
      this.unetSteps,
      this.predictions,
      this.errors,
      this.callbackDeliveries,
      this.leasesReceived,
      this.leasesReleased,
      this.leaseActions,
      this.fleetRequests,
    ];
    return `${all.map((m) => m.expose()).join('\n')}\n`;
  }
}
