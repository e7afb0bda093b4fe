/**
 * The work puller: the backend's side of the fleet protocol (`shared/fleet.ts`).
 *
 * - **Lease loops**, one per loaded model: long-poll `POST /internal/fleet/lease` for at most the free capacity,
 *   hand each leased job to the {@link PredictionService}. Free capacity = `leaseCapacity − held − asked`, where
 *   `held` counts unfinished jobs and `asked` the capacity requested by polls still in flight, so the jobs held
 *   never exceed `leaseCapacity` even with one poll per model. A poll asks for at most a fair share
 *   (`⌊leaseCapacity / models⌋`, at least 1) so one idle model's poll cannot take all the room.
 * - **Heartbeat loop**: every `heartbeat_ms` (from the last lease answer) send every held unfinished lease
 *   with its progress, and act on each answer: `continue` (renewed), `cancel` (stop, report canceled), `abort`
 *   (stop, report aborted), `lost` (stop; nothing is reported).
 * - **Release**: jobs that will not run here (draining, defunct, no room) go back with `POST /internal/fleet/release`.
 *
 * Failures never stop the puller: an unreachable edge or a 5xx answer is retried with exponential backoff and
 * jitter (`retry.ts`); held jobs keep running meanwhile, and the edge's lease expiry covers a backend that
 * never comes back. Polling stops for good when the service drains or fails.
 * @module
 */
import { MAX_LEASE_CAPACITY, type LeaseAction, type LeasedJob, type WorkerId } from '../../../shared/fleet.js';
import type { FleetClient, FleetRequestError } from './fleet-client.js';
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import type { HandBackReason } from './prediction-ending.js';
import type { PredictionService } from './prediction-service.js';
import { backoffDelayMs, type BackoffOptions } from './retry.js';

export interface WorkPullerOptions {
  client: FleetClient;
  service: PredictionService;
  workerId: WorkerId;
  /** Models to lease work for (those the service loaded). */
  models: readonly string[];
  /** Long-poll wait per lease request. */
  leaseWaitMs: number;
  /** Backoff after a failed fleet request. */
  backoff: BackoffOptions;
  /** Heartbeat period until the edge says otherwise in a lease answer. */
  initialHeartbeatMs?: number;
  metrics: BackendMetricsRegistry;
  logger: Logger;
  random?: () => number;
}

/** How many times a release is tried before the jobs are reported retryable through their callbacks instead. */
const RELEASE_ATTEMPTS = 3;

export class WorkPuller {
  readonly #options: WorkPullerOptions;
  readonly #random: () => number;
  /** Capacity asked for by lease polls in flight (counted as held until they answer). */
  #asked = 0;
  #heartbeatMs: number;
  #polling = false;
  #lastHeartbeatAt = 0;
  /** Set when polling stops: wakes lease loops that wait for room or back off. */
  readonly #pollingEnded = new AbortController();
  /** Aborts lease polls in flight (drain ran out of time). */
  readonly #pollAbort = new AbortController();
  /** Ends the heartbeat loop and every wait. */
  readonly #stopAbort = new AbortController();
  /** Wakes the heartbeat loop to reschedule (new leases, a new heartbeat period). */
  #heartbeatWake = new AbortController();
  #leaseLoops: Promise<void>[] = [];
  #heartbeatLoop: Promise<void> | undefined;
  /** Releases started by the lease loops (jobs that could not be taken). */
  readonly #releasesInFlight = new Set<Promise<boolean>>();

  constructor(options: WorkPullerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#heartbeatMs = options.initialHeartbeatMs ?? 5_000;
  }

  /** Capacity asked for by polls in flight. */
  get askedCapacity(): number {
    return this.#asked;
  }

  /** Starts one lease loop per model and the heartbeat loop. */
  start(): void {
    if (this.#polling || this.#stopAbort.signal.aborted) return;
    this.#polling = true;
    this.#leaseLoops = this.#options.models.map((model) => this.#leaseLoop(model));
    this.#heartbeatLoop = this.#heartbeatLoopRun();
    this.#options.logger.info('work puller started', {
      worker_id: this.#options.workerId,
      models: this.#options.models,
      lease_wait_ms: this.#options.leaseWaitMs,
    });
  }

  /**
   * Stops asking for work. Polls in flight may still answer (their jobs are handed back at once) until
   * `graceMs`, then they are cut short; a lease answered into a cut connection expires at the edge.
   */
  async stopPolling(graceMs: number): Promise<void> {
    this.#polling = false;
    this.#pollingEnded.abort();
    const loops = Promise.all(this.#leaseLoops);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([loops, late])) === 'late') this.#pollAbort.abort();
    clearTimeout(timer);
    await loops;
  }

  /** Stops everything (call after the service drained: heartbeats keep running jobs' leases alive until then). */
  async stop(): Promise<void> {
    this.#polling = false;
    this.#pollingEnded.abort();
    this.#pollAbort.abort();
    this.#stopAbort.abort();
    await Promise.all([...this.#leaseLoops, this.#heartbeatLoop, ...this.#releasesInFlight]);
  }

  /**
   * Hands leases back to the edge, trying a few times.
   * @returns true when the edge answered
   */
  async release(leases: ReadonlyArray<{ prediction_id: string; attempt: number }>, reason: HandBackReason | 'shutdown'): Promise<boolean> {
    const options = this.#options;
    if (leases.length === 0) return true;
    const refs = leases.map((l) => ({ prediction_id: l.prediction_id, attempt: l.attempt }));
    for (let attempt = 1; ; attempt++) {
      try {
        const chunks = [];
        for (let i = 0; i < refs.length; i += 256) chunks.push(refs.slice(i, i + 256));
        let released = 0;
        for (const chunk of chunks)
          released += (await options.client.release({ worker_id: options.workerId, leases: chunk, reason })).released;
        options.metrics.fleetRequests.inc({ endpoint: 'release', outcome: 'ok' });
        options.metrics.leasesReleased.inc({ reason, outcome: 'released' }, refs.length);
        options.logger.info('leases released', { reason, leases: refs, released });
        return true;
      } catch (err) {
        this.#requestFailed('release', err as FleetRequestError, attempt);
        if (attempt >= RELEASE_ATTEMPTS) {
          options.metrics.leasesReleased.inc({ reason, outcome: 'unreachable' }, refs.length);
          options.logger.error('leases not released: the edge is unreachable', { reason, leases: refs });
          return false;
        }
        await this.#sleep(backoffDelayMs(attempt, options.backoff, this.#random()));
      }
    }
  }

  async #leaseLoop(model: string): Promise<void> {
    const { service, client, workerId, leaseWaitMs, logger, metrics, backoff } = this.#options;
    let failures = 0;
    while (this.#polling) {
      if (service.finishedForGood) break;
      const free = service.leaseCapacity - service.heldCount - this.#asked;
      if (!service.acceptingWork || free <= 0) {
        await this.#untilChange();
        continue;
      }
      const share = Math.max(1, Math.floor(service.leaseCapacity / this.#options.models.length));
      const ask = Math.min(free, share, MAX_LEASE_CAPACITY);
      this.#asked += ask;
      let jobs: LeasedJob[];
      const sentAt = Date.now();
      try {
        const answer = await client.lease({ worker_id: workerId, model, capacity: ask, wait_ms: leaseWaitMs }, this.#pollAbort.signal);
        metrics.fleetRequests.inc({ endpoint: 'lease', outcome: 'ok' });
        this.#heartbeatMs = answer.heartbeat_ms;
        if (answer.jobs.length > 0) this.#heartbeatWake.abort();
        jobs = answer.jobs;
        failures = 0;
      } catch (err) {
        this.#asked -= ask;
        if (!this.#polling && this.#pollAbort.signal.aborted) break;
        failures += 1;
        this.#requestFailed('lease', err as FleetRequestError, failures, { model });
        const e = err as FleetRequestError;
        await this.#sleep(Math.max(backoffDelayMs(failures, backoff, this.#random()), e.retryAfterMs ?? 0), this.#pollingEnded.signal);
        continue;
      }
      // Synchronously from here: the asked capacity turns into held jobs.
      this.#asked -= ask;
      try {
        this.#take(model, jobs, ask);
      } catch (err) {
        logger.error('taking leased jobs failed', { model, err: err instanceof Error ? err : String(err) });
      }
      if (jobs.length === 0 && leaseWaitMs > 0 && Date.now() - sentAt < Math.min(leaseWaitMs, 1_000) / 10) {
        // An edge that answers an empty long poll at once would make this loop spin.
        await this.#sleep(backoff.baseDelayMs, this.#pollingEnded.signal);
      }
    }
    logger.info('lease polling stopped', { model, reason: this.#polling ? `service ${service.health().status}` : 'stopping' });
  }

  /** Hands each leased job to the service; what it cannot take goes back at once. */
  #take(model: string, jobs: LeasedJob[], asked: number): void {
    const { service, metrics, logger } = this.#options;
    const back = new Map<HandBackReason, LeasedJob[]>();
    const giveBack = (reason: HandBackReason, job: LeasedJob) => back.set(reason, [...(back.get(reason) ?? []), job]);
    jobs.forEach((leased, index) => {
      const { job } = leased;
      metrics.leasesReceived.inc({ model });
      if (index >= asked) {
        logger.error('the edge leased more jobs than asked for; handing the extra back', {
          prediction_id: job.id,
          attempt: job.attempt,
          asked,
        });
        giveBack('failed', leased);
        return;
      }
      const result = service.accept(job);
      logger.info('lease received', {
        prediction_id: job.id,
        attempt: job.attempt,
        model,
        lease_expires_at: leased.lease_expires_at,
        outcome: result.kind,
        held: service.heldCount,
        capacity: service.leaseCapacity,
      });
      if (result.kind === 'unavailable') giveBack(service.health().status === 'DEFUNCT' ? 'failed' : 'draining', leased);
      else if (result.kind === 'full') giveBack('failed', leased);
    });
    for (const [reason, leasedJobs] of back) {
      const released = this.release(
        leasedJobs.map((l) => ({ prediction_id: l.job.id, attempt: l.job.attempt })),
        reason,
      );
      this.#releasesInFlight.add(released);
      void released.finally(() => this.#releasesInFlight.delete(released));
    }
  }

  async #heartbeatLoopRun(): Promise<void> {
    const { service, client, workerId, metrics, logger, backoff } = this.#options;
    let failures = 0;
    while (!this.#stopAbort.signal.aborted) {
      const waitMs =
        failures === 0
          ? this.#heartbeatMs - (Date.now() - this.#lastHeartbeatAt)
          : Math.min(this.#heartbeatMs, backoffDelayMs(failures, backoff, this.#random()));
      if (waitMs > 0) {
        await this.#sleep(waitMs, AbortSignal.any([this.#stopAbort.signal, this.#heartbeatWake.signal]));
        if (this.#heartbeatWake.signal.aborted) {
          // New leases or a new period: the next heartbeat is due one period after the last one.
          this.#heartbeatWake = new AbortController();
          continue;
        }
      }
      if (this.#stopAbort.signal.aborted) break;
      const leases = service.heldLeases();
      this.#lastHeartbeatAt = Date.now();
      if (leases.length === 0) {
        failures = 0;
        continue;
      }
      try {
        // The protocol takes at most 256 leases per heartbeat.
        for (let i = 0; i < leases.length; i += 256) {
          const answer = await client.heartbeat({ worker_id: workerId, leases: leases.slice(i, i + 256) }, this.#stopAbort.signal);
          metrics.fleetRequests.inc({ endpoint: 'heartbeat', outcome: 'ok' });
          for (const lease of answer.leases) this.#act(lease.prediction_id, lease.attempt, lease.action);
        }
        failures = 0;
      } catch (err) {
        if (this.#stopAbort.signal.aborted) break;
        failures += 1;
        this.#requestFailed('heartbeat', err as FleetRequestError, failures, { leases: leases.length });
      }
    }
    logger.debug('heartbeats stopped');
  }

  #act(predictionId: string, attempt: number, action: LeaseAction): void {
    const { service, metrics, logger } = this.#options;
    metrics.leaseActions.inc({ action });
    if (action === 'continue') return;
    const cause = action === 'cancel' ? 'canceled' : action === 'abort' ? 'deadline' : 'lost';
    const stopped = service.stop(predictionId, attempt, cause);
    logger.info('lease action', { prediction_id: predictionId, attempt, action, stopped });
  }

  #requestFailed(
    endpoint: 'lease' | 'heartbeat' | 'release',
    err: FleetRequestError,
    failures: number,
    fields: Record<string, unknown> = {},
  ): void {
    const { metrics, logger } = this.#options;
    metrics.fleetRequests.inc({ endpoint, outcome: 'error' });
    metrics.errors.inc({ kind: 'fleet' });
    const log = err.transient === false ? logger.error.bind(logger) : logger.warn.bind(logger);
    log(`fleet ${endpoint} failed`, { ...fields, reason: err.message, status: err.status, consecutive_failures: failures });
  }

  /** Resolves at the service's next change, or when polling stops. */
  async #untilChange(): Promise<void> {
    const settled = new AbortController();
    await Promise.race([
      this.#options.service.changed(),
      this.#sleep(60_000, AbortSignal.any([this.#pollingEnded.signal, settled.signal])),
    ]);
    settled.abort();
  }

  /** Waits `ms`, or less when `signal` aborts. */
  #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done);
    });
  }
}
