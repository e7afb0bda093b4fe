/**
 * Status listener keeping the model's work queue in step with D1: a prediction that ended is taken out of the
 * queue. An ending the backend reported itself drops its job; an ending decided at the edge (cancel, OpenAI
 * wait timeout, Cancel-After backstop, edge failure) stops it: a queued job is dropped, a leased one carries
 * `cancel` (or `abort` for an aborted prediction) to its holder at the next heartbeat.
 * @module
 */
import { isTerminal } from '../../../shared/prediction.js';
import type { StatusListener } from '../predictions/status-change.js';
import { workQueueOf } from './work-queue.js';

/** Takes ended predictions out of their work queue. */
export const stopQueuedWork: StatusListener = async (env, { row, reportedByBackend }) => {
  if (!isTerminal(row.status)) return;
  const queue = workQueueOf(env, row.model);
  if (reportedByBackend || row.status === 'succeeded') await queue.drop(row.id);
  else await queue.stop(row.id, row.status === 'aborted' ? 'abort' : 'cancel');
};
