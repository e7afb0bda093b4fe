/**
 * The dispatch watchdog. Once a backend accepts a prediction, a `watch` message is put on the `jobs` queue
 * with a delay; its consumer asks that backend (`GET /predictions/:id`, signed) how the prediction is doing and
 * decides with {@link judgeProbe}: keep watching (another delayed message), dispatch again as a new attempt
 * (the backend died or restarted and lost it; late events of the old attempt are then stale), or adopt the
 * backend's finished result when its callback never arrived. Predictions live in their backend's memory, so
 * this is what keeps a crash from losing an accepted prediction.
 * Settings (vars, parsed by the edge's config module): `DISPATCH_WATCHDOG_S` (seconds between checks, default
 * 30), `DISPATCH_WATCHDOG_STRIKES` (consecutive bad checks before acting, default 2).
 * @module
 */
import { z } from 'zod';
import { DispatchMessage } from '../../../shared/dispatch.js';
import { BackendPredictionState, PredictionId } from '../../../shared/internal.js';
import { isTerminal } from '../../../shared/prediction.js';
import { signInternalRequest } from '../../../shared/signing.js';
import { configFrom } from '../config.js';
import { getPredictionRow } from '../predictions/row.js';
import { finishPrediction, outputsBelongTo, publicError } from '../predictions/transition.js';
import { judgeProbe, type BackendProbe } from './watchdog-policy.js';

/** A delayed check of one dispatched attempt. */
export const WatchMessage = z.strictObject({
  type: z.literal('watch'),
  prediction_id: PredictionId,
  attempt: z.number().int().min(1),
  strikes: z.number().int().min(0),
});
export type WatchMessage = z.infer<typeof WatchMessage>;

const PROBE_TIMEOUT_MS = 5_000;

function log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...fields }));
}

/** Schedules the next check of `attempt`. */
export async function armWatchdog(env: Env, predictionId: string, attempt: number, strikes = 0): Promise<void> {
  const message: WatchMessage = { type: 'watch', prediction_id: predictionId, attempt, strikes };
  await env.JOBS.send(message, { delaySeconds: configFrom(env).DISPATCH_WATCHDOG_S });
}

/** Asks a backend about one prediction; never throws. */
export async function probeBackend(baseUrl: string, secret: string, id: string): Promise<BackendProbe> {
  const path = `/predictions/${encodeURIComponent(id)}`;
  try {
    const headers = await signInternalRequest(secret, 'GET', path, '');
    const res = await fetch(`${baseUrl}${path}`, { headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: 'unknown' };
    }
    const parsed = BackendPredictionState.safeParse(res.ok ? await res.json() : null);
    if (!res.ok) await res.body?.cancel();
    return parsed.success ? { kind: 'state', state: parsed.data } : { kind: 'unreachable', reason: `answered ${res.status}` };
  } catch (err) {
    return { kind: 'unreachable', reason: String(err) };
  }
}

/** Handles one `watch` message. */
export async function watchPrediction(env: Env, message: WatchMessage): Promise<void> {
  const row = await getPredictionRow(env.DB, message.prediction_id);
  // Ended, or a newer attempt (with its own watch) has replaced this one: nothing to do.
  if (!row || isTerminal(row.status) || row.backend === null || row.attempt !== message.attempt) return;
  const { DISPATCH_WATCHDOG_STRIKES, INTERNAL_SECRET } = configFrom(env);
  const probe = await probeBackend(row.backend, INTERNAL_SECRET, row.id);
  const verdict = judgeProbe(probe, row.attempt, message.strikes, DISPATCH_WATCHDOG_STRIKES);
  switch (verdict.kind) {
    case 'watch':
      await armWatchdog(env, row.id, row.attempt, verdict.strikes);
      return;
    case 'adopt': {
      const { status, output, error, metrics } = verdict.state;
      if (status === 'queued' || status === 'processing') return;
      log('warn', 'adopting a finished result whose callback never arrived', { prediction_id: row.id, attempt: row.attempt, status });
      if (!outputsBelongTo(output, configFrom(env).S3_PREFIX, row.id)) {
        await finishPrediction(env, row.id, { status: 'failed', error: publicError('failed', row.id, 'outputs outside the prediction prefix') });
        return;
      }
      await finishPrediction(env, row.id, { status, output, error: publicError(status, row.id, error), metrics });
      return;
    }
    case 'redispatch': {
      // Release the row from its backend (only if nothing changed meanwhile) and queue a new attempt.
      const released = await env.DB.prepare(
        "UPDATE predictions SET backend = NULL WHERE id = ? AND attempt = ? AND backend = ? AND status IN ('starting', 'processing') RETURNING id",
      )
        .bind(row.id, row.attempt, row.backend)
        .first<{ id: string }>();
      if (!released) return;
      log('warn', 'dispatching again', { prediction_id: row.id, attempt: row.attempt, backend: row.backend, reason: verdict.reason });
      const dispatch: DispatchMessage = { type: 'dispatch', prediction_id: row.id };
      await env.JOBS.send(dispatch);
      return;
    }
  }
}
