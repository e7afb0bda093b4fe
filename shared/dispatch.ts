/**
 * Messages on the edge's `jobs` queue: one per dispatch of a prediction to a GPU backend.
 * @module
 */
import { z } from 'zod';
import { PredictionId } from './internal.js';

/** Ask the consumer to send a prediction to a backend. The D1 row holds everything else. */
export const DispatchMessage = z.strictObject({
  type: z.literal('dispatch'),
  prediction_id: PredictionId,
});
export type DispatchMessage = z.infer<typeof DispatchMessage>;
