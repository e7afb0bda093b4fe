/**
 * Serves a burst of jobs through the backend's `BatchQueue` (dynamic batching: compatible jobs share a pipeline
 * run up to `maxSize` images) and times the whole burst. `maxSize` 1 is one-at-a-time.
 * @module
 */
import type { ResolvedInput } from '../../shared/prediction.js';
import type { ImagePipeline } from '../../gpu-backend/src/pipeline/port.js';
import { BatchQueue, type QueueEntry } from '../../gpu-backend/src/server/batch-queue.js';

interface Entry extends QueueEntry {
  readonly input: ResolvedInput;
  readonly id: string;
}

/** One burst's outcome. */
export interface DrainResult {
  readonly maxBatch: number;
  readonly images: number;
  readonly wallMs: number;
  readonly imagesPerMinute: number;
  /** Images per pipeline run, in order. */
  readonly batchSizes: readonly number[];
}

/**
 * Enqueues every input at once, then runs batches until the queue is empty.
 * @param maxWaitMs how long a partial batch waits for company (the backend's setting)
 * @throws the first job error the pipeline reports
 */
export async function drainBurst(
  pipeline: ImagePipeline,
  inputs: readonly ResolvedInput[],
  maxBatch: number,
  maxWaitMs = 20,
): Promise<DrainResult> {
  const queue = new BatchQueue<Entry>({ capacity: inputs.length, maxSize: maxBatch, maxWaitMs });
  const t0 = performance.now();
  inputs.forEach((input, i) => {
    if (!queue.push({ key: pipeline.batchKey(input), size: input.num_outputs, enqueuedAt: Date.now(), input, id: `job-${i}` }))
      throw new Error('queue refused a job');
  });
  const batchSizes: number[] = [];
  while (queue.length > 0) {
    const batch = await queue.takeBatch();
    if (!batch) break;
    const results = await pipeline.run(batch.map((e) => ({ id: e.id, input: e.input, signal: new AbortController().signal })));
    for (const r of results) if (r instanceof Error) throw r;
    batchSizes.push(batch.reduce((n, e) => n + e.size, 0));
  }
  const wallMs = performance.now() - t0;
  const images = inputs.reduce((n, i) => n + i.num_outputs, 0);
  return { maxBatch, images, wallMs, imagesPerMinute: (images / wallMs) * 60_000, batchSizes };
}
