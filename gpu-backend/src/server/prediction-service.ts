/**
 * The prediction lifecycle inside one backend process: leased jobs accepted by id (never run twice), the bounded
 * queue, the single batch loop (one batch at a time: one GPU), cancellation, deadlines and lost leases, events to
 * the callback URL, health, the lease capacity the work puller asks for, and draining.
 * Pulling work lives in `work-puller.ts`; running one batch lives in `batch-runner.ts`.
 *
 * Capacity: the service holds at most {@link PredictionService.leaseCapacity} = `QUEUE_CAPACITY + MAX_BATCH_SIZE`
 * unfinished jobs (a running batch has at most `MAX_BATCH_SIZE` jobs, each of at least one image; the queue
 * holds the rest). A job counts from its acceptance until it ends; the puller never asks for more than
 * `leaseCapacity − held − asked for by polls in flight`.
 * @module
 */
import path from 'node:path';
import type { BackendEvent, BackendHealth, BackendHealthStatus, BackendJob } from '../../../shared/internal.js';
import { BatchQueue } from './batch-queue.js';
import { runBatch, type BatchRunnerDeps } from './batch-runner.js';
import type { CallbackDispatcher } from './callbacks.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import type { OutputWriterDeps } from './output-writer.js';
import type { ImagePipeline, LoadPipeline } from './pipeline-port.js';
import { abortEnding, type AbortCause, type Ending, type EventInput, type HandBackReason } from './prediction-ending.js';
import { isFinished, newRecord, viewOf, type PredictionRecord, type RecordView } from './prediction-record.js';

/** What the service takes from the validated configuration. */
type ServiceSettings = Pick<
  Config,
  | 'models'
  | 'providers'
  | 'deepcacheBranches'
  | 'deepcacheCacheDir'
  | 'intraOpThreads'
  | 'queueCapacity'
  | 'maxBatchSize'
  | 'maxBatchWaitMs'
  | 'outputPrefix'
  | 'finishedRetention'
>;

/**
 * Hands leases back to the edge (the work puller's `release`).
 * @returns true when the edge took them back; false when it could not be reached
 */
export type HandBack = (leases: ReadonlyArray<{ prediction_id: string; attempt: number }>, reason: HandBackReason) => Promise<boolean>;

export interface PredictionServiceOptions extends ServiceSettings {
  progressIntervalMs: number;
  loadPipeline: LoadPipeline;
  outputs: Omit<OutputWriterDeps, 'metrics'>;
  callbacks: CallbackDispatcher;
  metrics: BackendMetricsRegistry;
  logger: Logger;
  /** Set by the backend once the puller exists; without it, handed-back jobs are reported failed and retryable. */
  handBack?: HandBack;
}

/** What became of a leased job offered to the service. */
export type AcceptResult =
  /** Queued (or already past its deadline and reported aborted). */
  | { kind: 'accepted' }
  /** Known already: in flight (now under this attempt), or finished and reported again under this attempt. */
  | { kind: 'existing' }
  /** Not accepting work (starting, draining, failed): the caller hands the lease back. */
  | { kind: 'unavailable'; reason: string }
  /** No room (the caller asked for more than the free capacity): the caller hands the lease back. */
  | { kind: 'full' }
  /** The job cannot run here (model, output prefix): reported failed. */
  | { kind: 'rejected'; message: string };

/** A lease the service holds, with its progress (what a heartbeat carries). */
export interface HeldLeaseState {
  prediction_id: string;
  attempt: number;
  progress?: { step: number; total: number };
}

export class PredictionService {
  readonly #options: PredictionServiceOptions;
  #phase: 'STARTING' | 'READY' | 'SETUP_FAILED' | 'DEFUNCT' = 'STARTING';
  #setupError: string | null = null;
  #draining = false;
  readonly #pipelines = new Map<string, ImagePipeline>();
  /** Every known record by prediction id: unfinished ones and the last `finishedRetention` finished ones. */
  readonly #records = new Map<string, PredictionRecord>();
  /** Records queued or running: the leases this service holds. */
  readonly #held = new Set<PredictionRecord>();
  readonly #finishedOrder: string[] = [];
  readonly #queue: BatchQueue<PredictionRecord>;
  #running: PredictionRecord[] = [];
  #loop: Promise<void> | undefined;
  #changeWaiters: Array<() => void> = [];
  /** Hand-backs grouped by reason, sent together at the end of the current tick. */
  readonly #handBackBatches = new Map<HandBackReason, PredictionRecord[]>();
  readonly #handBacksInFlight = new Set<Promise<void>>();

  constructor(options: PredictionServiceOptions) {
    this.#options = options;
    this.#queue = new BatchQueue({ capacity: this.leaseCapacity, maxSize: options.maxBatchSize, maxWaitMs: options.maxBatchWaitMs });
  }

  /** Installs the hand-back port (the work puller's release). */
  connectHandBack(handBack: HandBack): void {
    this.#options.handBack = handBack;
  }

  /** Most unfinished jobs this service holds at once: queue capacity plus the jobs one batch can run. */
  get leaseCapacity(): number {
    return this.#options.queueCapacity + this.#options.maxBatchSize;
  }

  /** Unfinished jobs (queued or running). */
  get heldCount(): number {
    return this.#held.size;
  }

  get queueDepth(): number {
    return this.#queue.length;
  }

  get runningCount(): number {
    return this.#running.length;
  }

  /** Whether leased work is taken now (models loaded, not draining, not failed). */
  get acceptingWork(): boolean {
    return this.#phase === 'READY' && !this.#draining;
  }

  /** Whether the service will never take work again (setup failed, defunct or draining). */
  get finishedForGood(): boolean {
    return this.#draining || this.#phase === 'SETUP_FAILED' || this.#phase === 'DEFUNCT';
  }

  /** Resolves at the next change of the held count or of the phase. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.#changeWaiters.push(resolve));
  }

  /**
   * Loads and warms every model (trying providers in order), then starts the batch loop. Never throws. A shutdown
   * during loading stops it after the current model.
   */
  async start(): Promise<void> {
    const options = this.#options;
    for (const m of options.models) {
      const t0 = performance.now();
      try {
        const pipeline = await options.loadPipeline({
          modelId: m.id,
          modelDir: m.dir,
          providers: options.providers,
          ...(options.deepcacheBranches === undefined ? {} : { deepcacheBranches: options.deepcacheBranches }),
          ...(options.deepcacheCacheDir === undefined ? {} : { deepcacheCacheDir: path.join(options.deepcacheCacheDir, m.id) }),
          ...(options.intraOpThreads === undefined ? {} : { intraOpThreads: options.intraOpThreads }),
        });
        this.#pipelines.set(m.id, pipeline);
        await pipeline.warmup();
        if (this.#draining) {
          // Shut down while loading: nothing will run here; let go of what was loaded.
          await Promise.all([...this.#pipelines.values()].map((p) => p.dispose().catch(() => undefined)));
          return;
        }
        options.logger.info('model loaded', {
          model: m.id,
          execution_provider: pipeline.executionProvider,
          load_ms: Math.round(performance.now() - t0),
        });
      } catch (err) {
        this.#phase = 'SETUP_FAILED';
        this.#setupError = `model ${m.id}: ${err instanceof Error ? err.message : String(err)}`;
        options.metrics.errors.inc({ kind: 'fatal' });
        options.logger.error('model failed to load', { model: m.id, dir: m.dir, err: err instanceof Error ? err : String(err) });
        this.#notifyChange();
        return;
      }
    }
    this.#phase = 'READY';
    options.logger.info('backend ready', { models: [...this.#pipelines.keys()], execution_provider: this.#providerSummary() });
    this.#loop = this.#batchLoop();
    this.#notifyChange();
  }

  health(): BackendHealth {
    let status: BackendHealthStatus = this.#phase;
    if (status === 'READY' && (this.#draining || this.#held.size >= this.leaseCapacity)) status = 'BUSY';
    return {
      status,
      models: [...this.#pipelines.keys()],
      execution_provider: this.#providerSummary(),
      queue_depth: this.#queue.length,
      queue_capacity: this.#queue.capacity,
      running: this.#running.length,
      setup_error: this.#setupError,
    };
  }

  /** What the service knows about a prediction (unfinished or recently finished). */
  get(id: string): RecordView | undefined {
    const r = this.#records.get(id);
    return r && viewOf(r);
  }

  /** The leases held now, with each job's progress (for the heartbeat). */
  heldLeases(): HeldLeaseState[] {
    return [...this.#held].map((r) => ({
      prediction_id: r.job.id,
      attempt: r.attempt,
      ...(r.progress && r.progress.total >= 1 ? { progress: { step: r.progress.step, total: r.progress.total } } : {}),
    }));
  }

  /**
   * Takes a leased job. A prediction already known is never run twice: in flight, it continues under the newer
   * attempt; finished and reported, its ending is reported again under the new attempt (the edge lost the first
   * report); handed back or lost, it runs again.
   */
  accept(job: BackendJob, log: Logger = this.#options.logger): AcceptResult {
    const options = this.#options;
    const existing = this.#records.get(job.id);
    if (
      existing &&
      existing.ending?.kind !== 'handed-back' &&
      existing.ending?.kind !== 'lost' &&
      !(existing.ending?.kind === 'reported' && existing.ending.retryable)
    ) {
      if (job.attempt > existing.attempt) {
        existing.attempt = job.attempt;
        if (existing.ending?.kind === 'reported') existing.completedDelivery = this.#emitCompleted(existing, existing.ending);
      }
      log.info('prediction already known', { prediction_id: job.id, status: existing.status, attempt: job.attempt });
      return { kind: 'existing' };
    }
    if (!this.acceptingWork) return { kind: 'unavailable', reason: this.#draining ? 'backend is draining' : `backend is ${this.#phase}` };
    if (this.#held.size >= this.leaseCapacity) {
      options.metrics.errors.inc({ kind: 'queue_full' });
      return { kind: 'full' };
    }
    const pipeline = this.#pipelines.get(job.model);
    const problem = !pipeline
      ? `model ${job.model} is not served here (serving ${[...this.#pipelines.keys()].join(', ')})`
      : job.output_prefix !== options.outputPrefix && !job.output_prefix.startsWith(`${options.outputPrefix}/`)
        ? `output_prefix must be ${options.outputPrefix} or lie below it`
        : job.output_prefix.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')
          ? 'output_prefix must not contain empty, . or .. segments'
          : undefined;
    const record = newRecord(job, pipeline ? `${job.model}\u0000${pipeline.batchKey(job.input)}` : job.model, Date.now());
    this.#records.set(job.id, record);
    this.#held.add(record);
    if (problem !== undefined) {
      options.metrics.errors.inc({ kind: 'validation' });
      log.warn('leased job refused', { prediction_id: job.id, attempt: job.attempt, reason: problem });
      this.#finish(record, { kind: 'reported', status: 'failed', error: `job refused by the backend: ${problem}`, retryable: false });
      return { kind: 'rejected', message: problem };
    }
    const deadlineMs = job.deadline === undefined ? undefined : Date.parse(job.deadline) - Date.now();
    if (deadlineMs !== undefined && deadlineMs <= 0) {
      this.#finish(record, abortEnding.deadline);
      return { kind: 'accepted' };
    }
    // Cannot fail: the queue's capacity is the lease capacity, and held ≤ lease capacity was checked above.
    this.#queue.push(record);
    log.info('prediction accepted', {
      prediction_id: job.id,
      attempt: job.attempt,
      model: job.model,
      queue_depth: this.#queue.length,
      held: this.#held.size,
    });
    if (deadlineMs !== undefined) record.deadlineTimer = setTimeout(() => this.#abort(record, 'deadline'), deadlineMs);
    return { kind: 'accepted' };
  }

  /**
   * Stops a queued or running prediction of the given attempt (a heartbeat's answer): a queued one ends at once,
   * a running one leaves its batch at the next step. A finished one, or another attempt, is left as it is.
   * @returns false when no such unfinished lease is held
   */
  stop(id: string, attempt: number, cause: Exclude<AbortCause, 'shutdown'>): boolean {
    const r = this.#records.get(id);
    if (!r || r.attempt !== attempt || isFinished(r.status)) return false;
    this.#abort(r, cause);
    return true;
  }

  /**
   * Draining: stop taking work; hand the queued jobs back (`draining`); let the running batch finish within
   * `drainTimeoutMs`, else stop it between steps and hand its jobs back too; wait for the hand-backs; flush
   * callbacks (at least a second); release the pipelines.
   */
  async shutdown(drainTimeoutMs: number): Promise<{ flushed: boolean }> {
    const options = this.#options;
    this.#draining = true;
    this.#notifyChange();
    const queued = this.#queue.close();
    options.logger.info('draining', { queued: queued.length, running: this.#running.length });
    for (const r of queued) this.#finish(r, { kind: 'handed-back', reason: 'draining' });
    if (this.#loop) {
      const finished = await Promise.race([this.#loop.then(() => true), delay(drainTimeoutMs).then(() => false)]);
      if (!finished) {
        options.logger.warn('drain timeout: stopping the running batch', { running: this.#running.length });
        for (const r of this.#running) this.#abort(r, 'shutdown');
        await this.#loop;
      }
    }
    await this.#handBacksSettled();
    const flushed = await options.callbacks.flush(Math.max(drainTimeoutMs, 1000));
    await Promise.all([...this.#pipelines.values()].map((p) => p.dispose().catch(() => undefined)));
    options.logger.info('drained', { callbacks_flushed: flushed });
    return { flushed };
  }

  #providerSummary(): string | null {
    const ps = [...new Set([...this.#pipelines.values()].map((p) => p.executionProvider))];
    return ps.length === 0 ? null : ps.join(',');
  }

  #abort(r: PredictionRecord, cause: AbortCause): void {
    if (isFinished(r.status) || r.abortCause !== undefined) return;
    if (r.status === 'queued' && this.#queue.remove(r)) {
      this.#finish(r, abortEnding[cause]);
      return;
    }
    r.abortCause = cause;
    r.controller.abort(new DOMException(`prediction ${cause}`, 'AbortError'));
  }

  async #batchLoop(): Promise<void> {
    for (;;) {
      const batch = await this.#queue.takeBatch();
      if (batch === null) return;
      const pipeline = this.#pipelines.get(batch[0]!.job.model)!;
      this.#running = batch;
      try {
        await runBatch(this.#runnerDeps(), pipeline, batch);
      } catch (err) {
        this.#fatal(err, batch);
        return;
      } finally {
        this.#running = [];
      }
    }
  }

  /** A pipeline-wide failure (not a per-job error): DEFUNCT; every held lease goes back (`failed`). */
  #fatal(err: unknown, batch: PredictionRecord[]): void {
    const options = this.#options;
    this.#phase = 'DEFUNCT';
    this.#setupError = `runtime failure: ${err instanceof Error ? err.message : String(err)}`;
    options.metrics.errors.inc({ kind: 'fatal' });
    options.logger.error('fatal pipeline failure; backend is defunct', { err: err instanceof Error ? err : String(err) });
    for (const r of [...batch, ...this.#queue.close()]) this.#finish(r, { kind: 'handed-back', reason: 'failed' });
    this.#notifyChange();
  }

  #runnerDeps(): BatchRunnerDeps {
    const options = this.#options;
    return {
      outputs: { ...options.outputs, metrics: options.metrics },
      metrics: options.metrics,
      logger: options.logger,
      progressIntervalMs: options.progressIntervalMs,
      emit: (r, e) => this.#emit(r, e),
      finish: (r, ending) => this.#finish(r, ending),
    };
  }

  #emit(r: PredictionRecord, body: EventInput): Promise<unknown> {
    const event = { ...body, prediction_id: r.job.id, attempt: r.attempt, seq: r.seq++, at: new Date().toISOString() } as BackendEvent;
    return this.#options.callbacks.send(r.job.callback_url, event);
  }

  #emitCompleted(r: PredictionRecord, ending: Extract<Ending, { kind: 'reported' }>): Promise<unknown> {
    return this.#emit(r, {
      type: 'completed',
      status: ending.status,
      output: r.output,
      error: r.error,
      metrics: r.metrics,
      retryable: ending.retryable,
    });
  }

  #finish(r: PredictionRecord, ending: Ending): void {
    if (isFinished(r.status)) return;
    const options = this.#options;
    clearTimeout(r.deadlineTimer);
    this.#held.delete(r);
    r.ending = ending;
    r.metrics = {
      ...r.metrics,
      ...(ending.kind === 'reported' ? ending.metrics : undefined),
      queue_time: r.metrics.queue_time ?? (Date.now() - r.enqueuedAt) / 1000,
    };
    switch (ending.kind) {
      case 'reported':
        r.status = ending.status;
        r.output = ending.output ?? null;
        r.error = ending.error;
        options.metrics.predictions.inc({ status: ending.status });
        options.metrics.stageSeconds.observe((Date.now() - r.enqueuedAt) / 1000, { stage: 'total' });
        options.logger.info('prediction finished', {
          prediction_id: r.job.id,
          attempt: r.attempt,
          status: r.status,
          error: r.error ?? undefined,
          retryable: ending.retryable,
          ...r.metrics,
        });
        r.completedDelivery = this.#emitCompleted(r, ending);
        break;
      case 'handed-back':
        r.status = 'released';
        options.logger.info('prediction handed back', { prediction_id: r.job.id, attempt: r.attempt, reason: ending.reason });
        this.#queueHandBack(r, ending.reason);
        break;
      case 'lost':
        r.status = 'lost';
        options.logger.info('prediction dropped: lease lost', { prediction_id: r.job.id, attempt: r.attempt });
        break;
    }
    this.#finishedOrder.push(r.job.id);
    while (this.#finishedOrder.length > options.finishedRetention) {
      const id = this.#finishedOrder.shift()!;
      const old = this.#records.get(id);
      if (old && isFinished(old.status)) this.#records.delete(id);
    }
    this.#notifyChange();
  }

  /** Groups hand-backs of one tick into one release per reason. */
  #queueHandBack(r: PredictionRecord, reason: HandBackReason): void {
    const pending = this.#handBackBatches.get(reason);
    if (pending) {
      pending.push(r);
      return;
    }
    this.#handBackBatches.set(reason, [r]);
    const sent = Promise.resolve().then(async () => {
      const records = this.#handBackBatches.get(reason) ?? [];
      this.#handBackBatches.delete(reason);
      const handBack = this.#options.handBack;
      const released = handBack
        ? await handBack(
            records.map((x) => ({ prediction_id: x.job.id, attempt: x.attempt })),
            reason,
          ).catch(() => false)
        : false;
      if (released) return;
      // The edge could not be reached: say so through the callback instead, so the job runs again elsewhere.
      for (const x of records) {
        x.ending = {
          kind: 'reported',
          status: 'failed',
          error: `backend ${reason === 'draining' ? 'shut down' : 'failed'} before the prediction finished`,
          retryable: true,
        };
        x.status = 'failed';
        x.error = x.ending.error;
        this.#options.metrics.predictions.inc({ status: 'failed' });
        x.completedDelivery = this.#emitCompleted(x, x.ending);
      }
    });
    this.#handBacksInFlight.add(sent);
    void sent.finally(() => this.#handBacksInFlight.delete(sent));
  }

  async #handBacksSettled(): Promise<void> {
    while (this.#handBacksInFlight.size > 0) await Promise.all([...this.#handBacksInFlight]);
  }

  #notifyChange(): void {
    const waiters = this.#changeWaiters;
    this.#changeWaiters = [];
    for (const w of waiters) w();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
