/**
 * The `logs` text of a prediction, derived from what the row records (nothing is stored for it): the seed and
 * settings used, the last step reported and, at the end, how many full and shallow U-Net evaluations ran.
 * @module
 */
import type { BackendMetrics } from '../../../shared/internal.js';
import type { ResolvedInput } from '../../../shared/prediction.js';

export interface LogSource {
  input: ResolvedInput;
  progress: { step: number; total: number } | null;
  metrics: BackendMetrics;
}

/** Log lines of a prediction, newline-separated. */
export function predictionLogs({ input, progress, metrics }: LogSource): string {
  const dc = input.deepcache;
  const deepcache =
    dc === false
      ? 'DeepCache off'
      : `DeepCache cache_interval ${dc.cache_interval}, cache_branch_id ${dc.cache_branch_id} (${dc.schedule})`;
  const lines = [
    `Using seed: ${input.seed}`,
    `${input.width}×${input.height}, ${input.num_inference_steps} steps, scheduler ${input.scheduler}, guidance ${input.guidance_scale}, ${deepcache}`,
  ];
  if (progress) lines.push(`Step ${progress.step}/${progress.total}`);
  if (metrics.unet_full_steps !== undefined) {
    const time = metrics.predict_time === undefined ? '' : ` in ${metrics.predict_time.toFixed(2)} s`;
    lines.push(`U-Net: ${metrics.unet_full_steps} full + ${metrics.unet_shallow_steps ?? 0} shallow evaluations${time}`);
  }
  return lines.join('\n');
}
