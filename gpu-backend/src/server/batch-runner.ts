/**
 * Runs one batch of compatible predictions through a pipeline: mark them started, run the pipeline once with
 * per-job abort signals and progress, then for each job store its images and report exactly one terminal state.
 * A rejection of `pipeline.run` itself (not a per-job error) propagates: the caller treats it as fatal.
 * @module
 */
import type { Logger } from './logger.js';
import type { BackendMetricsRegistry } from './metrics.js';
import { writeOutputs, OutputError, type OutputWriterDeps } from './output-writer.js';
import type { ImageJob, ImagePipeline, JobResult, StepProgress } from './pipeline-port.js';
import { abortEnding, type EventInput, type FinishPrediction } from './prediction-ending.js';
import type { PredictionRecord } from './prediction-record.js';
import { readInputImages } from './input-images.js';

export interface BatchRunnerDeps {
  outputs: OutputWriterDeps;
  metrics: BackendMetricsRegistry;
  logger: Logger;
  progressIntervalMs: number;
  emit: (r: PredictionRecord, event: EventInput) => Promise<unknown>;
  finish: FinishPrediction<PredictionRecord>;
}

function onProgress(deps: BatchRunnerDeps, r: PredictionRecord, p: StepProgress): void {
  r.progress = { step: p.step, total: p.total };
  if (!r.job.progress_events) return;
  const now = Date.now();
  if (p.step === p.total || now - r.lastProgressSentAt >= deps.progressIntervalMs) {
    r.lastProgressSentAt = now;
    void deps.emit(r, { type: 'progress', step: p.step, total: p.total, unet: p.unet });
  }
}

/** Runs a batch to the end; every record in it is finished when this resolves. */
export async function runBatch(deps: BatchRunnerDeps, pipeline: ImagePipeline, batch: PredictionRecord[]): Promise<void> {
  const started = Date.now();
  const images = batch.reduce((n, r) => n + r.size, 0);
  deps.metrics.batchSize.observe(images);
  for (const r of batch) {
    r.status = 'processing';
    r.startedAt = started;
    r.metrics = { queue_time: (started - r.enqueuedAt) / 1000, batch_size: images };
    deps.metrics.stageSeconds.observe((started - r.enqueuedAt) / 1000, { stage: 'queue' });
    void deps.emit(r, { type: 'started' });
  }
  deps.logger.info('batch started', { predictions: batch.map((r) => r.job.id), images, model: pipeline.modelId });
  // input images (image-to-image, inpainting): a job whose inputs cannot be read or decoded fails alone
  const inputs = await Promise.all(
    batch.map((r) =>
      readInputImages(deps.outputs.store, r.job.input).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))),
    ),
  );
  const runnable = batch.map((_, i) => !(inputs[i] instanceof Error));
  const jobs: ImageJob[] = batch.flatMap((r, i) => {
    const given = inputs[i];
    if (given instanceof Error) return [];
    return [
      {
        id: r.job.id,
        input: r.job.input,
        signal: r.controller.signal,
        onProgress: (p: StepProgress) => onProgress(deps, r, p),
        ...(given ? { inputImages: given } : {}),
      },
    ];
  });
  const t0 = performance.now();
  const ran = jobs.length ? await pipeline.run(jobs) : [];
  if (ran.length !== jobs.length) throw new Error(`pipeline returned ${ran.length} results for ${jobs.length} jobs`);
  let next = 0;
  const results = batch.map((_, i) => (runnable[i] ? ran[next++]! : (inputs[i] as Error)));
  const inferenceMs = performance.now() - t0;
  deps.metrics.stageSeconds.observe(inferenceMs / 1000, { stage: 'inference' });
  if (results.length !== batch.length) throw new Error(`pipeline returned ${results.length} results for ${batch.length} jobs`);
  await Promise.all(batch.map((r, i) => settle(deps, r, results[i]!)));
  deps.logger.info('batch finished', { predictions: batch.map((r) => r.job.id), inference_ms: Math.round(inferenceMs) });
}

async function settle(deps: BatchRunnerDeps, r: PredictionRecord, result: JobResult | Error): Promise<void> {
  if (r.abortCause !== undefined) {
    deps.finish(r, abortEnding[r.abortCause]);
    return;
  }
  if (result instanceof Error) {
    deps.metrics.errors.inc({ kind: 'pipeline' });
    deps.logger.error('prediction failed in the pipeline', { prediction_id: r.job.id, err: result });
    deps.finish(r, { kind: 'reported', status: 'failed', error: `pipeline error: ${result.message}`, retryable: false });
    return;
  }
  deps.metrics.unetSteps.inc({ kind: 'full' }, result.unetFullSteps);
  deps.metrics.unetSteps.inc({ kind: 'shallow' }, result.unetShallowSteps);
  try {
    const output = await writeOutputs(deps.outputs, r.job, result);
    deps.finish(r, {
      kind: 'reported',
      status: 'succeeded',
      error: null,
      retryable: false,
      output,
      metrics: {
        predict_time: (Date.now() - (r.startedAt ?? Date.now())) / 1000,
        unet_full_steps: result.unetFullSteps,
        unet_shallow_steps: result.unetShallowSteps,
      },
    });
  } catch (err) {
    const kind = err instanceof OutputError ? err.stage : 'upload';
    deps.metrics.errors.inc({ kind });
    deps.logger.error('storing outputs failed', { prediction_id: r.job.id, err: err instanceof Error ? err : String(err) });
    deps.finish(r, { kind: 'reported', status: 'failed', error: err instanceof Error ? err.message : String(err), retryable: false });
  }
}
