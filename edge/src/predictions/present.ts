/**
 * Turns a `predictions` row into the public prediction object, minting fresh presigned output URLs.
 * @module
 */
import type { BackendMetrics, StoredImage } from '../../../shared/internal.js';
import { findModel, modelVersionId } from '../../../shared/models.js';
import type { Prediction, ResolvedInput } from '../../../shared/prediction.js';
import type { EdgeConfig } from '../config.js';
import { presignGet } from '../storage/s3.js';
import { predictionLogs } from './logs.js';
import type { PredictionRow } from './row.js';

/** Public URLs of a prediction. */
export function predictionUrls(config: Pick<EdgeConfig, 'PUBLIC_BASE_URL'>, id: string): Prediction['urls'] {
  const get = `${config.PUBLIC_BASE_URL}/v1/predictions/${id}`;
  return { get, cancel: `${get}/cancel`, stream: `${get}/events`, web: `${config.PUBLIC_BASE_URL}/?prediction=${id}` };
}

/** Stored output images of a row (object keys, in index order). */
export function storedImages(row: Pick<PredictionRow, 'output_json'>): StoredImage[] {
  if (row.output_json === null) return [];
  return (JSON.parse(row.output_json) as StoredImage[]).toSorted((a, b) => a.index - b.index);
}

function seconds(fromIso: string, toIso: string): number {
  return Math.round(Date.parse(toIso) - Date.parse(fromIso)) / 1000;
}

/** The prediction object for a row. */
export async function presentPrediction(config: EdgeConfig, row: PredictionRow): Promise<Prediction> {
  const metrics = JSON.parse(row.metrics_json) as BackendMetrics;
  const input = JSON.parse(row.resolved_json) as ResolvedInput;
  const progress = row.progress_total === null ? null : { step: row.progress_step ?? 0, total: row.progress_total };
  const images = storedImages(row);
  const output = row.status === 'succeeded' ? await Promise.all(images.map((img) => presignGet(config, img.key))) : null;
  const spec = findModel(row.model);
  return {
    id: row.id,
    model: row.model,
    version: spec ? await modelVersionId(spec) : 'unknown',
    status: row.status,
    input,
    output,
    error: row.error,
    logs: predictionLogs({ input, progress, metrics }),
    progress,
    metrics: {
      ...(metrics.predict_time === undefined ? {} : { predict_time: metrics.predict_time }),
      ...(row.completed_at === null ? {} : { total_time: seconds(row.created_at, row.completed_at) }),
      ...(metrics.unet_full_steps === undefined ? {} : { unet_full_steps: metrics.unet_full_steps }),
      ...(metrics.unet_shallow_steps === undefined ? {} : { unet_shallow_steps: metrics.unet_shallow_steps }),
    },
    cost: { credits: row.cost_credits },
    urls: predictionUrls(config, row.id),
    source: 'api',
    data_removed: false,
    ...(row.deadline === null ? {} : { deadline: row.deadline }),
    created_at: row.created_at,
    started_at: row.started_at,
    completed_at: row.completed_at,
  };
}
