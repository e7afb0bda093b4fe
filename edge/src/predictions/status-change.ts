/**
 * Status changes and the listeners that react to them (a leaf module: types and the runner only). The list of
 * listeners is wired in the Worker's entry (`index.ts`) and passed to the lifecycle functions, so that no
 * module of the lifecycle imports the modules that listen to it.
 * @module
 */
import type { PredictionStatus } from '../../../shared/prediction.js';
import type { PredictionRow } from './row.js';

/** A recorded change: the row after it, and the status it left. */
export interface StatusChange {
  from: PredictionStatus;
  row: PredictionRow;
  /** The backend reported this change itself (a callback event), so it needs no stop signal. */
  reportedByBackend?: boolean;
}

/** Reacts to a change D1 has recorded; runs once per real change. */
export type StatusListener = (env: Env, change: StatusChange) => Promise<void>;

/** The listeners of a deployment, in the order they run. */
export type StatusListeners = readonly StatusListener[];

/** Runs every listener in order; a failing listener is logged and does not stop the others. */
export async function notifyStatusChange(env: Env, listeners: StatusListeners, change: StatusChange): Promise<void> {
  for (const listener of listeners) {
    try {
      await listener(env, change);
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', message: 'status listener failed', prediction_id: change.row.id, error: String(err) }));
    }
  }
}
