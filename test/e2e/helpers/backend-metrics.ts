/**
 * The GPU backends' Prometheus metrics in end-to-end tests: one signed scrape of `GET /metrics`, a metric's value
 * summed over its labels, and a sampler that scrapes a changing set of backends until stopped and keeps, per
 * backend, the most leased jobs it was seen holding next to the most it may hold.
 * @module
 */
import { signInternalRequest } from '../../../shared/signing.js';
import type { BackendPart } from '../../../scripts/stack/backend-part.js';

/** Leased jobs held (queued or running) on a backend. */
export const LEASES_HELD = 'gpu_backend_leases_held';
/** Most leased jobs a backend holds at once. */
export const LEASE_CAPACITY = 'gpu_backend_lease_capacity';
/** Jobs a backend received under a lease (a counter). */
export const LEASES_RECEIVED = 'gpu_backend_leases_received_total';
/** Heartbeat answers per lease, by `action` (continue, cancel, abort, lost). */
export const LEASE_ACTIONS = 'gpu_backend_lease_actions_total';
/** Predictions in the running batch. */
export const RUNNING = 'gpu_backend_running';

/** A backend's metrics page; undefined when it does not answer (e.g. it was killed). */
export async function scrapeMetrics(url: string, secret: string): Promise<string | undefined> {
  try {
    // A CPU backend answers only between onnxruntime calls, which take many seconds on a busy machine.
    const res = await fetch(`${url}/metrics`, {
      headers: await signInternalRequest(secret, 'GET', '/metrics', ''),
      signal: AbortSignal.timeout(60_000),
    });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sum of the samples of `name` in a Prometheus text page whose labels include every pair of `labels`
 * (0 when a counter has no such sample yet).
 * @throws Error when the page does not declare `name` at all (a renamed metric must not read as zero)
 */
export function metricValue(page: string, name: string, labels: Record<string, string> = {}): number {
  if (!page.split('\n').some((line) => line.startsWith(`# TYPE ${name} `) || line.startsWith(`${name} `) || line.startsWith(`${name}{`))) {
    throw new Error(`metric ${name} is not on the page`);
  }
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (wanted.every((pair) => labelText.includes(pair))) sum += Number(match[3]);
  }
  return sum;
}

/** One metric of a backend (see {@link metricValue}); undefined when the backend does not answer. */
export async function backendMetric(
  backend: { url: string },
  secret: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const page = await scrapeMetrics(backend.url, secret);
  return page === undefined ? undefined : metricValue(page, name, labels);
}

/** What the sampler saw of one backend. */
export interface LeaseHighWater {
  /** Most leased jobs seen held at once. */
  maxHeld: number;
  /** The backend's lease capacity (the same in every scrape). */
  capacity: number;
  /** Scrapes that answered. */
  scrapes: number;
}

/** Scrapes every running backend in turn until stopped; the per-backend high-water marks of held leases. */
export class LeaseSampler {
  readonly seen = new Map<string, LeaseHighWater>();
  #stopped = false;
  #failure: unknown;
  readonly #loop: Promise<void>;

  constructor(running: () => readonly BackendPart[], secret: string) {
    this.#loop = (async () => {
      while (!this.#stopped) {
        for (const b of running()) {
          const page = await scrapeMetrics(b.url, secret);
          if (page === undefined) continue;
          const held = metricValue(page, LEASES_HELD);
          const capacity = metricValue(page, LEASE_CAPACITY);
          const prev = this.seen.get(b.workerId);
          if (prev !== undefined && prev.capacity !== capacity)
            throw new Error(`${b.workerId}: lease capacity changed from ${prev.capacity} to ${capacity}`);
          this.seen.set(b.workerId, { maxHeld: Math.max(prev?.maxHeld ?? 0, held), capacity, scrapes: (prev?.scrapes ?? 0) + 1 });
        }
        // Paces the scrapes (a sampler, not a wait on a condition).
        await new Promise((r) => setTimeout(r, 100));
      }
    })().catch((err: unknown) => {
      this.#failure = err;
    });
  }

  /** Stops sampling; rejects with what broke the loop (a missing metric, a changing capacity). */
  async stop(): Promise<ReadonlyMap<string, LeaseHighWater>> {
    this.#stopped = true;
    await this.#loop;
    if (this.#failure !== undefined) throw this.#failure;
    return this.seen;
  }
}
