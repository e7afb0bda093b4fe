/**
 * Serving synchronous waits at the edge: the request waits on the prediction's channel (no GPU slot is held
 * while the client waits), then re-reads D1 for the result.
 * @module
 */
import { isTerminal } from '../../../shared/prediction.js';
import { channelOf } from '../channel/prediction-channel.js';
import { getPredictionRow, type PredictionRow } from './row.js';

/** Waits up to `seconds` for the prediction to end and returns its current row. */
export async function waitForPrediction(env: Env, row: PredictionRow, seconds: number): Promise<PredictionRow> {
  if (seconds <= 0 || isTerminal(row.status)) return row;
  await channelOf(env, row.id).waitForEnd(seconds * 1000);
  return (await getPredictionRow(env.DB, row.id)) ?? row;
}
