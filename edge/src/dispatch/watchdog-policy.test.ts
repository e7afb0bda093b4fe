import { describe, expect, it } from 'vitest';
import type { BackendPredictionState } from '../../../shared/internal.js';
import { judgeProbe } from './watchdog-policy.js';

const state = (over: Partial<BackendPredictionState> = {}): BackendPredictionState => ({
  id: 'pred_0123456789abcdef',
  attempt: 1,
  status: 'processing',
  progress: { step: 2, total: 10 },
  output: null,
  error: null,
  metrics: {},
  ...over,
});

describe('judgeProbe', () => {
  it('keeps watching and clears strikes while the backend runs the expected attempt', () => {
    expect(judgeProbe({ kind: 'state', state: state() }, 1, 1, 2)).toEqual({ kind: 'watch', strikes: 0 });
    expect(judgeProbe({ kind: 'state', state: state({ status: 'queued' }) }, 1, 0, 2)).toEqual({ kind: 'watch', strikes: 0 });
  });

  it('counts a strike for an unreachable backend and re-dispatches at the limit', () => {
    const probe = { kind: 'unreachable', reason: 'connection refused' } as const;
    expect(judgeProbe(probe, 1, 0, 2)).toEqual({ kind: 'watch', strikes: 1 });
    expect(judgeProbe(probe, 1, 1, 2)).toEqual({ kind: 'redispatch', reason: 'the backend did not answer (connection refused)' });
  });

  it('re-dispatches when a restarted backend no longer knows the prediction', () => {
    expect(judgeProbe({ kind: 'unknown' }, 3, 2, 3).kind).toBe('redispatch');
  });

  it('re-dispatches when the backend holds another attempt of the prediction', () => {
    expect(judgeProbe({ kind: 'state', state: state({ attempt: 1 }) }, 2, 0, 1)).toEqual({ kind: 'redispatch', reason: 'the backend runs attempt 1, not 2' });
  });

  it('adopts a finished result whose callback has not arrived after the same patience', () => {
    const done = state({ status: 'succeeded', output: [] });
    expect(judgeProbe({ kind: 'state', state: done }, 1, 0, 2)).toEqual({ kind: 'watch', strikes: 1 });
    expect(judgeProbe({ kind: 'state', state: done }, 1, 1, 2)).toEqual({ kind: 'adopt', state: done });
  });
});
