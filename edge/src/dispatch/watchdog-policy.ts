/**
 * What the dispatch watchdog does after probing the backend that accepted a prediction (pure: no I/O).
 * A backend that does not answer, or no longer knows the prediction (it restarted), earns a strike; after
 * `maxStrikes` consecutive strikes the prediction is dispatched again as a new attempt. A backend that holds a
 * finished prediction whose callback never reached the edge has its result adopted after the same patience.
 * @module
 */
import type { BackendPredictionState } from '../../../shared/internal.js';

/** The result of `GET /predictions/:id` on the accepting backend. */
export type BackendProbe =
  | { kind: 'state'; state: BackendPredictionState }
  | { kind: 'unknown' }
  | { kind: 'unreachable'; reason: string };

/** The watchdog's decision. */
export type WatchdogVerdict =
  | { kind: 'watch'; strikes: number }
  | { kind: 'redispatch'; reason: string }
  | { kind: 'adopt'; state: BackendPredictionState };

const finished = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/**
 * @param attempt the attempt the edge expects the backend to run
 * @param strikes consecutive strikes before this probe
 */
export function judgeProbe(probe: BackendProbe, attempt: number, strikes: number, maxStrikes: number): WatchdogVerdict {
  if (probe.kind === 'state' && probe.state.attempt === attempt && !finished.has(probe.state.status)) return { kind: 'watch', strikes: 0 };
  const next = strikes + 1;
  if (probe.kind === 'state' && probe.state.attempt === attempt) {
    return next >= maxStrikes ? { kind: 'adopt', state: probe.state } : { kind: 'watch', strikes: next };
  }
  if (next < maxStrikes) return { kind: 'watch', strikes: next };
  const reason =
    probe.kind === 'unreachable'
      ? `the backend did not answer (${probe.reason})`
      : probe.kind === 'unknown'
        ? 'the backend no longer knows the prediction'
        : `the backend runs attempt ${probe.state.attempt}, not ${attempt}`;
  return { kind: 'redispatch', reason };
}
