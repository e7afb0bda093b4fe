/**
 * The prediction lifecycle inside one backend process: idempotent submit by id, the bounded queue, the single
 * batch loop (one batch at a time: one GPU), cancellation and deadlines, events to the callback URL, health,
 * and graceful shutdown. HTTP lives in `app.ts`; running one batch lives in `batch-runner.ts`.
 * @module
 */
import type { BackendEvent, BackendHealth, BackendHealthStatus, BackendJob, BackendPredictionState } from '../../../shared/internal.js';
import { BatchQueue } from './batch-queue.js';
import { runBatch, type BatchRunnerDeps } from './batch-runner.js';
import type { CallbackDispatcher } from './callbacks.js';
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import path from 'node:path';
import type { ImagePipeline, LoadPipeline } from './pipeline-port.js';
import { abortOutcome, isFinished, newRecord, RETRYABLE_ERROR_PREFIX, stateOf, type AbortCause, type PredictionRecord } from './prediction-record.js';
import type { OutputWriterDeps } from './output-writer.js';
import type { Config } from './config.js';

type EventBody<T extends BackendEvent['type']> = Omit<Extract<BackendEvent, { type: T }>, 'prediction_id' | 'attempt' | 'seq' | 'at'>;
export type EventInput = EventBody<'started'> | EventBody<'progress'> | EventBody<'completed'>;

/** What the service takes from the validated configuration. */
type ServiceSettings = Pick<
  Config,
  'models' | 'providers' | 'deepcacheBranches' | 'deepcacheCacheDir' | 'intraOpThreads' | 'queueCapacity' | 'maxBatchSize' | 'maxBatchWaitMs' | 'outputPrefix' | 'finishedRetention'
>;

export interface PredictionServiceOptions extends ServiceSettings {
  progressIntervalMs: number;
  loadPipeline: LoadPipeline;
  outputs: Omit<OutputWriterDeps, 'metrics'>;
  callbacks: CallbackDispatcher;
  metrics: BackendMetricsRegistry;
  logger: Logger;
}

/** Result of a submit: what the HTTP layer answers. */
export type SubmitResult =
  | { kind: 'accepted' | 'existing'; state: BackendPredictionState }
  | { kind: 'queue-full' }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'invalid'; pointer: string; message: string };

export class PredictionService {
  private phase: 'STARTING' | 'READY' | 'SETUP_FAILED' | 'DEFUNCT' = 'STARTING';
  private setupError: string | null = null;
  private draining = false;
  private readonly pipelines = new Map<string, ImagePipeline>();
  private readonly records = new Map<string, PredictionRecord>();
  private readonly finishedOrder: string[] = [];
  private readonly queue: BatchQueue<PredictionRecord>;
  private running: PredictionRecord[] = [];
  private loop: Promise<void> | undefined;

  constructor(private readonly o: PredictionServiceOptions) {
    this.queue = new BatchQueue({ capacity: o.queueCapacity, maxSize: o.maxBatchSize, maxWaitMs: o.maxBatchWaitMs });
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get runningCount(): number {
    return this.running.length;
  }

  /** Loads and warms every model (trying providers in order), then starts the batch loop. Never throws. */
  async start(): Promise<void> {
    for (const m of this.o.models) {
      const t0 = performance.now();
      try {
        const pipeline = await this.o.loadPipeline({
          modelId: m.id, modelDir: m.dir, providers: this.o.providers,
          ...(this.o.deepcacheBranches === undefined ? {} : { deepcacheBranches: this.o.deepcacheBranches }),
          ...(this.o.deepcacheCacheDir === undefined ? {} : { deepcacheCacheDir: path.join(this.o.deepcacheCacheDir, m.id) }),
          ...(this.o.intraOpThreads === undefined ? {} : { intraOpThreads: this.o.intraOpThreads }),
        });
        this.pipelines.set(m.id, pipeline);
        await pipeline.warmup();
        this.o.logger.info('model loaded', { model: m.id, execution_provider: pipeline.executionProvider, load_ms: Math.round(performance.now() - t0) });
      } catch (err) {
        this.phase = 'SETUP_FAILED';
        this.setupError = `model ${m.id}: ${err instanceof Error ? err.message : String(err)}`;
        this.o.metrics.errors.inc({ kind: 'fatal' });
        this.o.logger.error('model failed to load', { model: m.id, dir: m.dir, err: err instanceof Error ? err : String(err) });
        return;
      }
    }
    this.phase = 'READY';
    this.o.logger.info('backend ready', { models: [...this.pipelines.keys()], execution_provider: this.providerSummary() });
    this.loop = this.batchLoop();
  }

  health(): BackendHealth {
    let status: BackendHealthStatus = this.phase;
    if (status === 'READY' && (this.draining || this.queue.isFull)) status = 'BUSY';
    return {
      status,
      models: [...this.pipelines.keys()],
      execution_provider: this.providerSummary(),
      queue_depth: this.queue.length,
      queue_capacity: this.queue.capacity,
      running: this.running.length,
      setup_error: this.setupError,
    };
  }

  get(id: string): BackendPredictionState | undefined {
    const r = this.records.get(id);
    return r && stateOf(r);
  }

  /** Accepts a job, or returns the existing prediction with that id (never a second run). */
  submit(job: BackendJob, log: Logger): SubmitResult {
    const existing = this.records.get(job.id);
    if (existing) {
      if (!isFinished(existing.status) && job.attempt > existing.attempt) existing.attempt = job.attempt;
      log.info('prediction already known', { prediction_id: job.id, status: existing.status, attempt: job.attempt });
      return { kind: 'existing', state: stateOf(existing) };
    }
    if (this.draining) return { kind: 'unavailable', reason: 'backend is shutting down' };
    if (this.phase !== 'READY') return { kind: 'unavailable', reason: `backend is ${this.phase}` };
    const pipeline = this.pipelines.get(job.model);
    if (!pipeline) return { kind: 'invalid', pointer: '/model', message: `model ${job.model} is not served here (serving ${[...this.pipelines.keys()].join(', ')})` };
    const prefix = this.o.outputPrefix;
    if (job.output_prefix !== prefix && !job.output_prefix.startsWith(`${prefix}/`)) {
      return { kind: 'invalid', pointer: '/output_prefix', message: `must be ${prefix} or lie below it` };
    }
    if (job.output_prefix.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) {
      return { kind: 'invalid', pointer: '/output_prefix', message: 'must not contain empty, . or .. segments' };
    }
    const record = newRecord(job, `${job.model}\u0000${pipeline.batchKey(job.input)}`, Date.now());
    const deadlineMs = job.deadline === undefined ? undefined : Date.parse(job.deadline) - Date.now();
    if (deadlineMs === undefined || deadlineMs > 0) {
      if (!this.queue.push(record)) {
        this.o.metrics.errors.inc({ kind: 'queue_full' });
        return { kind: 'queue-full' };
      }
    }
    this.records.set(job.id, record);
    log.info('prediction accepted', { prediction_id: job.id, attempt: job.attempt, model: job.model, queue_depth: this.queue.length });
    if (deadlineMs !== undefined) {
      if (deadlineMs <= 0) this.finish(record, 'aborted', { error: abortOutcome.deadline.error });
      else record.deadlineTimer = setTimeout(() => this.abort(record, 'deadline'), deadlineMs);
    }
    return { kind: 'accepted', state: stateOf(record) };
  }

  /** Cancels a queued or running prediction; a finished one is left as it is. Undefined when unknown. */
  cancel(id: string): BackendPredictionState | undefined {
    const r = this.records.get(id);
    if (!r) return undefined;
    this.abort(r, 'canceled');
    return stateOf(r);
  }

  /**
   * Graceful shutdown: stop accepting; fail queued predictions as retryable (the edge re-dispatches them);
   * let the running batch finish within `drainTimeoutMs`, else abort it between steps; flush callbacks.
   */
  async shutdown(drainTimeoutMs: number): Promise<{ flushed: boolean }> {
    this.draining = true;
    const queued = this.queue.close();
    this.o.logger.info('draining', { queued: queued.length, running: this.running.length });
    for (const r of queued) this.finish(r, 'failed', { error: `${RETRYABLE_ERROR_PREFIX} backend shut down before the prediction started` });
    if (this.loop) {
      const finished = await Promise.race([this.loop.then(() => true), delay(drainTimeoutMs).then(() => false)]);
      if (!finished) {
        this.o.logger.warn('drain timeout: aborting the running batch', { running: this.running.length });
        for (const r of this.running) this.abort(r, 'shutdown');
        await this.loop;
      }
    }
    const flushed = await this.o.callbacks.flush(Math.max(drainTimeoutMs, 1000));
    await Promise.all([...this.pipelines.values()].map((p) => p.dispose().catch(() => undefined)));
    this.o.logger.info('drained', { callbacks_flushed: flushed });
    return { flushed };
  }

  private providerSummary(): string | null {
    const ps = [...new Set([...this.pipelines.values()].map((p) => p.executionProvider))];
    return ps.length === 0 ? null : ps.join(',');
  }

  private abort(r: PredictionRecord, cause: AbortCause): void {
    if (isFinished(r.status) || r.abortCause !== undefined) return;
    if (r.status === 'queued' && this.queue.remove(r)) {
      const { status, error } = abortOutcome[cause];
      this.finish(r, status, { error });
      return;
    }
    r.abortCause = cause;
    r.controller.abort(new DOMException(`prediction ${cause}`, 'AbortError'));
  }

  private async batchLoop(): Promise<void> {
    for (;;) {
      const batch = await this.queue.takeBatch();
      if (batch === null) return;
      const pipeline = this.pipelines.get(batch[0]!.job.model)!;
      this.running = batch;
      try {
        await runBatch(this.runnerDeps(), pipeline, batch);
      } catch (err) {
        this.fatal(err, batch);
        return;
      } finally {
        this.running = [];
      }
    }
  }

  /** A pipeline-wide failure (not a per-job error): fail everything as retryable and report DEFUNCT. */
  private fatal(err: unknown, batch: PredictionRecord[]): void {
    this.phase = 'DEFUNCT';
    this.setupError = `runtime failure: ${err instanceof Error ? err.message : String(err)}`;
    this.o.metrics.errors.inc({ kind: 'fatal' });
    this.o.logger.error('fatal pipeline failure; backend is defunct', { err: err instanceof Error ? err : String(err) });
    const error = `${RETRYABLE_ERROR_PREFIX} backend failed while running the prediction`;
    for (const r of [...batch, ...this.queue.close()]) if (!isFinished(r.status)) this.finish(r, 'failed', { error });
  }

  private runnerDeps(): BatchRunnerDeps {
    return {
      outputs: { ...this.o.outputs, metrics: this.o.metrics },
      metrics: this.o.metrics,
      logger: this.o.logger,
      progressIntervalMs: this.o.progressIntervalMs,
      emit: (r, e) => this.emit(r, e),
      finish: (r, status, fields) => this.finish(r, status, fields),
    };
  }

  private emit(r: PredictionRecord, body: EventInput): Promise<unknown> {
    const event = { ...body, prediction_id: r.job.id, attempt: r.attempt, seq: r.seq++, at: new Date().toISOString() } as BackendEvent;
    return this.o.callbacks.send(r.job.callback_url, event);
  }

  private finish(r: PredictionRecord, status: 'succeeded' | 'failed' | 'canceled' | 'aborted', fields: Partial<Pick<PredictionRecord, 'output' | 'error' | 'metrics'>>): void {
    if (isFinished(r.status)) return;
    clearTimeout(r.deadlineTimer);
    r.status = status;
    r.output = fields.output ?? null;
    r.error = fields.error ?? null;
    r.metrics = { ...r.metrics, ...fields.metrics, queue_time: r.metrics.queue_time ?? (Date.now() - r.enqueuedAt) / 1000 };
    this.o.metrics.predictions.inc({ status });
    this.o.metrics.stageSeconds.observe((Date.now() - r.enqueuedAt) / 1000, { stage: 'total' });
    this.o.logger.info('prediction finished', { prediction_id: r.job.id, attempt: r.attempt, status, error: r.error ?? undefined, ...r.metrics });
    const retryable = status === 'failed' && (r.error?.startsWith(RETRYABLE_ERROR_PREFIX) ?? false);
    r.completedDelivery = this.emit(r, { type: 'completed', status, output: r.output, error: r.error, metrics: r.metrics, retryable });
    this.finishedOrder.push(r.job.id);
    while (this.finishedOrder.length > this.o.finishedRetention) this.records.delete(this.finishedOrder.shift()!);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
