/**
 * What a prediction's channel carries: status changes and per-step progress (newline-delimited JSON between
 * the Durable Object and the SSE route).
 * @module
 */
import { z } from 'zod';
import { PredictionStatus } from '../../../shared/prediction.js';

export const ChannelEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: PredictionStatus, at: z.iso.datetime() }),
  z.object({ type: z.literal('progress'), step: z.number().int(), total: z.number().int() }),
]);
export type ChannelEvent = z.infer<typeof ChannelEvent>;
