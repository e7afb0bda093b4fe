import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendEvent } from '../../../shared/internal.js';
import { CallbackDispatcher } from './callbacks.js';
import { createLogger } from './logger.js';
import { BackendMetricsRegistry } from './metrics.js';
import { startCallbackReceiver, type CallbackReceiver } from '../../../test/support/server/callback-receiver.js';

const secret = 'callback-test-secret-0123456789abcdef';
const id = 'pred_callbacks_0001';
const at = () => new Date().toISOString();
const started = (seq: number): BackendEvent => ({ type: 'started', prediction_id: id, attempt: 1, seq, at: at() });
const progress = (seq: number, step: number): BackendEvent => ({
  type: 'progress',
  prediction_id: id,
  attempt: 1,
  seq,
  at: at(),
  step,
  total: 10,
  unet: 'full',
});
const completed = (seq: number): BackendEvent => ({
  type: 'completed',
  prediction_id: id,
  attempt: 1,
  seq,
  at: at(),
  status: 'succeeded',
  output: [],
  error: null,
  metrics: {},
  retryable: false,
});

describe('CallbackDispatcher', () => {
  let receiver: CallbackReceiver;
  let lines: Array<Record<string, unknown>>;
  let metrics: BackendMetricsRegistry;
  const dispatcher = (maxAttempts = 6) =>
    new CallbackDispatcher({
      secret,
      maxAttempts,
      baseDelayMs: 5,
      maxDelayMs: 40,
      timeoutMs: 2000,
      metrics,
      logger: createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    });

  beforeEach(async () => {
    receiver = await startCallbackReceiver(secret);
    lines = [];
    metrics = new BackendMetricsRegistry({ queueDepth: () => 0, running: () => 0 });
  });
  afterEach(() => receiver.close());

  it('retries through 500s, 429s and dropped sockets until the signed event is acknowledged', async () => {
    const actions = ['fail-500', 'drop-socket', 'busy-429'] as const;
    receiver.plan = (n) => actions[n] ?? 'ok';
    const outcome = await dispatcher().send(receiver.url, completed(0));
    expect(outcome).toBe('acknowledged');
    expect(receiver.requests.map((r) => r.action)).toEqual(['fail-500', 'drop-socket', 'busy-429', 'ok']);
    expect(receiver.requests.every((r) => r.verified)).toBe(true);
    expect(receiver.events.map((e) => e.seq)).toEqual([0]);
    expect(metrics.callbackDeliveries.get({ outcome: 'retry' })).toBe(3);
  });

  it('does not send event n+1 before event n is acknowledged', async () => {
    receiver.plan = (n) => (n < 2 ? 'fail-500' : 'ok');
    const d = dispatcher();
    const outcomes = await Promise.all([d.send(receiver.url, started(0)), d.send(receiver.url, completed(1))]);
    expect(outcomes).toEqual(['acknowledged', 'acknowledged']);
    expect(receiver.requests.map((r) => r.type)).toEqual(['started', 'started', 'started', 'completed']);
    expect(receiver.events.map((e) => e.seq)).toEqual([0, 1]);
  });

  it('replaces a waiting progress event with a newer one', async () => {
    receiver.plan = (n) => (n === 0 ? 'fail-500' : 'ok');
    const d = dispatcher();
    const sent = [
      d.send(receiver.url, started(0)),
      d.send(receiver.url, progress(1, 1)),
      d.send(receiver.url, progress(2, 2)),
      d.send(receiver.url, progress(3, 3)),
    ];
    expect(await Promise.all(sent)).toEqual(['acknowledged', 'abandoned', 'abandoned', 'acknowledged']);
    expect(receiver.events.map((e) => e.seq)).toEqual([0, 3]);
  });

  it('gives up after the retry budget, logs it, and still delivers later events', async () => {
    receiver.plan = (n) => (n < 3 ? 'fail-500' : 'ok');
    const d = dispatcher(3);
    expect(await d.send(receiver.url, completed(0))).toBe('gave-up');
    expect(lines.some((l) => l.level === 'error' && String(l.msg).includes('retry budget'))).toBe(true);
    expect(await d.send(receiver.url, completed(1))).toBe('acknowledged');
    expect(receiver.events.map((e) => e.seq)).toEqual([1]);
    expect(metrics.errors.get({ kind: 'callback' })).toBe(1);
  });

  it('does not retry an event the receiver rejects with a 4xx', async () => {
    receiver.plan = () => 'reject-400';
    expect(await dispatcher().send(receiver.url, completed(0))).toBe('rejected');
    expect(receiver.requests).toHaveLength(1);
  });

  it('flush waits for pending deliveries and reports whether they finished in time', async () => {
    receiver.plan = () => 'fail-500';
    const d = new CallbackDispatcher({
      secret,
      maxAttempts: 50,
      baseDelayMs: 200,
      maxDelayMs: 200,
      timeoutMs: 2000,
      logger: createLogger({ write: () => {} }),
    });
    const outcome = d.send(receiver.url, completed(0));
    expect(await d.flush(100)).toBe(false);
    expect(await outcome).toBe('abandoned');
    expect(d.backlog).toBe(0);
  });
});
