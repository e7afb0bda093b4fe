/**
 * The `jobs` queue consumer: sends each accepted prediction to a backend. A prediction is claimed by bumping
 * its attempt while no backend holds it; backends are tried best first; when all refuse (409/5xx/no answer) the
 * message is retried later with exponential backoff, and after the queue's retries it lands in the dead-letter
 * queue, whose consumer fails the prediction. Bad messages are acked and logged. The same queue carries the
 * watchdog's delayed `watch` messages (`watchdog.ts`), which may release a prediction from a dead backend so
 * that it is claimed again here as a new attempt, and `cancel` messages (`stop-work.ts`): cancels that did not
 * reach a backend the first time.
 * @module
 */
import { DispatchMessage } from '../../../shared/dispatch.js';
import type { BackendJob } from '../../../shared/internal.js';
import { isTerminal, type PredictionStatus, type ResolvedInput } from '../../../shared/prediction.js';
import { configFrom } from '../config.js';
import { getPredictionRow } from '../predictions/row.js';
import { finishPrediction } from '../predictions/transition.js';
import { forgetHealth, rankBackends } from './backends.js';
import { sendJob } from './send-job.js';
import { CancelMessage, retryCancel, stopBackendWork } from './stop-work.js';
import { armWatchdog, watchPrediction, WatchMessage } from './watchdog.js';

/** Delay before retry `attempts` (1-based): 2, 4, 8 … capped at 60 s. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(60, 2 ** Math.max(1, attempts));
}

type Outcome = { kind: 'done' } | { kind: 'retry'; reason: string };

function log(message: string, fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ level: 'info', message, ...fields }));
}

/** Dispatches one prediction. */
export async function dispatchPrediction(env: Env, predictionId: string): Promise<Outcome> {
  const config = configFrom(env);
  const row = await getPredictionRow(env.DB, predictionId);
  if (!row || isTerminal(row.status) || row.backend !== null) return { kind: 'done' };
  if (row.deadline !== null && Date.parse(row.deadline) <= Date.now()) {
    await finishPrediction(env, row.id, { status: 'aborted', error: 'Cancel-After deadline passed before the prediction started' });
    return { kind: 'done' };
  }
  // Claim the next attempt (a concurrent delivery of the same message loses here). A prediction the watchdog
  // released from a dead backend may already be `processing`.
  const claimed = await env.DB.prepare(
    "UPDATE predictions SET attempt = attempt + 1, last_seq = -1 WHERE id = ? AND attempt = ? AND backend IS NULL AND status IN ('starting', 'processing') RETURNING attempt",
  )
    .bind(row.id, row.attempt)
    .first<{ attempt: number }>();
  if (!claimed) return { kind: 'done' };

  const job: BackendJob = {
    id: row.id,
    model: row.model,
    input: JSON.parse(row.resolved_json) as ResolvedInput,
    attempt: claimed.attempt,
    output_prefix: config.S3_PREFIX,
    callback_url: `${config.PUBLIC_BASE_URL}/internal/predictions/${row.id}/events`,
    ...(row.deadline === null ? {} : { deadline: row.deadline }),
    progress_events: true,
  };
  const reasons: string[] = [];
  for (const backend of await rankBackends(config.BACKENDS, row.model, config.INTERNAL_SECRET)) {
    const sent = await sendJob(backend, config.INTERNAL_SECRET, job);
    if (sent.kind === 'accepted') {
      // The backend may already hold this id from an earlier attempt: follow its attempt number.
      const recorded = await env.DB.prepare('UPDATE predictions SET backend = ?, attempt = ? WHERE id = ? AND attempt = ? RETURNING status')
        .bind(backend, sent.state.attempt, row.id, claimed.attempt)
        .first<{ status: PredictionStatus }>();
      log('dispatched', { prediction_id: row.id, backend, attempt: sent.state.attempt });
      // Ended (canceled, aborted) between the claim and the PUT: its cancel found no backend, so send it now.
      // D1 orders the two updates: either the ending saw this backend, or this update sees the ending.
      if (recorded && isTerminal(recorded.status) && recorded.status !== 'succeeded') {
        await stopBackendWork(env, row.id, backend);
        return { kind: 'done' };
      }
      await armWatchdog(env, row.id, sent.state.attempt);
      return { kind: 'done' };
    }
    forgetHealth(backend);
    reasons.push(sent.reason);
    if (sent.kind === 'rejected') {
      // The backend's answer (its address, its body) goes to the logs, not to the customer.
      console.error(JSON.stringify({ level: 'error', message: 'backend rejected the job', prediction_id: row.id, reason: sent.reason }));
      await finishPrediction(env, row.id, { status: 'failed', error: 'The GPU backend rejected the job' });
      return { kind: 'done' };
    }
  }
  return { kind: 'retry', reason: reasons.length > 0 ? reasons.join('; ') : 'no healthy backend serves this model' };
}

/** Consumer for the `jobs` queue. */
export async function consumeDispatchBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const watch = WatchMessage.safeParse(message.body);
    if (watch.success) {
      await watchPrediction(env, watch.data);
      message.ack();
      continue;
    }
    const cancel = CancelMessage.safeParse(message.body);
    if (cancel.success) {
      await retryCancel(env, cancel.data);
      message.ack();
      continue;
    }
    const parsed = DispatchMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error(JSON.stringify({ level: 'error', message: 'dropping malformed dispatch message', id: message.id, issues: parsed.error.issues }));
      message.ack();
      continue;
    }
    const outcome = await dispatchPrediction(env, parsed.data.prediction_id);
    if (outcome.kind === 'done') {
      message.ack();
    } else {
      const delaySeconds = retryDelaySeconds(message.attempts);
      log('dispatch retry', { prediction_id: parsed.data.prediction_id, reason: outcome.reason, delay_s: delaySeconds });
      message.retry({ delaySeconds });
    }
  }
}

/** Consumer for the dead-letter queue: the prediction could not be dispatched, so it fails (nothing is charged). */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = DispatchMessage.safeParse(message.body);
    if (parsed.success) {
      await finishPrediction(env, parsed.data.prediction_id, { status: 'failed', error: 'No backend accepted the prediction' });
    }
    message.ack();
  }
}
