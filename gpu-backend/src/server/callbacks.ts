/**
 * Delivery of `BackendEvent`s to a prediction's callback URL: signed like every internal request, retried with
 * exponential backoff + jitter on network errors, timeouts, 5xx, 408 and 429 (honouring Retry-After), and ordered
 * per prediction: event n+1 is not sent before n was acknowledged (2xx) or given up on. A progress event still
 * waiting behind another is replaced by a newer one (the edge only needs the latest).
 * @module
 */
import type { BackendEvent } from '../../../shared/internal.js';
import { signInternalRequest } from '../../../shared/signing.js';
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import { backoffDelayMs, isRetryableStatus, parseRetryAfterMs } from './retry.js';

export interface CallbackOptions {
  secret: string;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  logger: Logger;
  metrics?: BackendMetricsRegistry;
  random?: () => number;
}

/** What became of one event. */
export type DeliveryOutcome = 'acknowledged' | 'rejected' | 'gave-up' | 'abandoned';

interface Pending {
  event: BackendEvent;
  done: (outcome: DeliveryOutcome) => void;
}

/** Ordered, retried delivery for one prediction's events. */
class CallbackChannel {
  readonly #pending: Pending[] = [];
  #running: Promise<void> | undefined;

  readonly #url: URL;
  readonly #owner: CallbackDispatcher;
  readonly #onIdle: () => void;

  constructor(url: URL, owner: CallbackDispatcher, onIdle: () => void) {
    this.#url = url;
    this.#owner = owner;
    this.#onIdle = onIdle;
  }

  send(event: BackendEvent): Promise<DeliveryOutcome> {
    return new Promise((done) => {
      const last = this.#pending.at(-1);
      if (event.type === 'progress' && last?.event.type === 'progress') {
        last.done('abandoned');
        this.#pending[this.#pending.length - 1] = { event, done };
      } else {
        this.#pending.push({ event, done });
      }
      this.#running ??= this.#pump();
    });
  }

  /** Resolves once everything queued so far was delivered or given up on. */
  async drained(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #pump(): Promise<void> {
    for (;;) {
      const next = this.#pending.shift();
      if (next === undefined) {
        this.#running = undefined;
        this.#onIdle();
        return;
      }
      next.done(await this.#owner.deliver(this.#url, next.event));
    }
  }
}

/** Owns the per-prediction channels; one per process. */
export class CallbackDispatcher {
  readonly #channels = new Map<string, CallbackChannel>();
  readonly #stop = new AbortController();
  readonly #random: () => number;

  readonly #options: CallbackOptions;

  constructor(options: CallbackOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Queues an event for its prediction's callback URL.
   * @returns how the delivery ended (resolves late: after retries)
   */
  send(callbackUrl: string, event: BackendEvent): Promise<DeliveryOutcome> {
    const key = `${event.prediction_id}\u0000${callbackUrl}`;
    let channel = this.#channels.get(key);
    if (!channel) {
      const created = new CallbackChannel(new URL(callbackUrl), this, () => {
        if (this.#channels.get(key) === created) this.#channels.delete(key);
      });
      this.#channels.set(key, created);
      channel = created;
    }
    return channel.send(event);
  }

  /** Number of predictions with events not yet delivered. */
  get backlog(): number {
    return this.#channels.size;
  }

  /**
   * Waits for every queued event to be delivered or given up on, at most `timeoutMs`; after that, pending
   * retries are abandoned.
   * @returns true when everything was flushed in time
   */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const all = (async () => {
      while (this.#channels.size > 0) await Promise.all([...this.#channels.values()].map((c) => c.drained()));
      return true;
    })();
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([all, late]);
    clearTimeout(timer);
    if (!ok) this.#stop.abort();
    return ok;
  }

  /** POSTs one event until acknowledged, rejected (non-retryable 4xx) or out of attempts. */
  async deliver(url: URL, event: BackendEvent): Promise<DeliveryOutcome> {
    const { maxAttempts, timeoutMs, logger, metrics } = this.#options;
    const body = JSON.stringify(event);
    const log = logger.child({ prediction_id: event.prediction_id, attempt: event.attempt, seq: event.seq, event: event.type });
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.#stop.signal.aborted) break;
      const started = performance.now();
      let waitMs: number | undefined;
      let reason: string;
      try {
        const headers = await signInternalRequest(this.#options.secret, 'POST', url.pathname + url.search, body);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stop.signal]),
        });
        await res.arrayBuffer().catch(() => undefined);
        metrics?.stageSeconds.observe((performance.now() - started) / 1000, { stage: 'callback' });
        if (res.ok) {
          metrics?.callbackDeliveries.inc({ outcome: 'acknowledged' });
          log.debug('callback acknowledged', { status: res.status, delivery_attempt: attempt });
          return 'acknowledged';
        }
        if (!isRetryableStatus(res.status)) {
          metrics?.callbackDeliveries.inc({ outcome: 'rejected' });
          metrics?.errors.inc({ kind: 'callback' });
          log.error('callback rejected by the receiver', { status: res.status, delivery_attempt: attempt });
          return 'rejected';
        }
        reason = `HTTP ${res.status}`;
        waitMs = parseRetryAfterMs(res.headers.get('retry-after'), Date.now());
      } catch (err) {
        reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      metrics?.callbackDeliveries.inc({ outcome: 'retry' });
      if (attempt === maxAttempts) {
        metrics?.errors.inc({ kind: 'callback' });
        log.error('callback not delivered: retry budget spent', { reason, delivery_attempts: attempt });
        return 'gave-up';
      }
      const backoff = backoffDelayMs(attempt, this.#options, this.#random());
      const delay = Math.min(this.#options.maxDelayMs, Math.max(backoff, waitMs ?? 0));
      log.warn('callback failed; retrying', { reason, delivery_attempt: attempt, retry_in_ms: delay });
      await sleep(delay, this.#stop.signal);
    }
    log.error('callback abandoned at shutdown');
    return 'abandoned';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
