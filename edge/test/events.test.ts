import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { auth, call, createPrediction, deliver, newCustomer, runToSuccess, waitForJob } from './helpers.js';

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads an SSE response to its end. */
async function readEvents(res: Response, onEvent: (e: SseEvent) => Promise<void> = async () => undefined): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue; // heartbeat comment
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      const parsed = { event, data: JSON.parse(data) as unknown };
      events.push(parsed);
      await onEvent(parsed);
    }
  }
}

describe('GET /v1/predictions/:id/events', () => {
  it('streams status changes and per-step progress, then the finished prediction, then ends', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    const { backend } = await waitForJob(prediction.id);
    const res = await call(`/v1/predictions/${prediction.id}/events`, auth(key));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const script = [
      { type: 'started' },
      { type: 'progress', step: 1, total: 6 },
      { type: 'progress', step: 2, total: 6 },
      { type: 'completed', status: 'succeeded' },
    ];
    let next = 0;
    const events = await readEvents(res, async () => {
      // Drive the backend one step per received event, so each change is observed live.
      const spec = script[next++];
      if (spec) expect((await deliver(backend, prediction.id, spec)).status).toBe(200);
    });
    expect(events.map((e) => e.event)).toEqual(['status', 'status', 'progress', 'progress', 'status', 'completed', 'done']);
    expect(events.filter((e) => e.event === 'status').map((e) => (e.data as { status: string }).status)).toEqual([
      'starting',
      'processing',
      'succeeded',
    ]);
    expect(events[3]?.data).toEqual({ step: 2, total: 6 });
    const completed = events[5]?.data as Prediction;
    expect(completed.status).toBe('succeeded');
    expect(completed.output).toHaveLength(1);
  });

  it('sends the final state at once for a prediction that already ended', async () => {
    const { key } = await newCustomer();
    const { prediction } = await createPrediction(key);
    await runToSuccess(prediction.id);
    const events = await readEvents(await call(`/v1/predictions/${prediction.id}/events`, auth(key)));
    expect(events.map((e) => e.event)).toEqual(['status', 'completed', 'done']);
    expect(events[2]?.data).toEqual({ status: 'succeeded' });
  });

  it('answers 404 problem for another account’s prediction', async () => {
    const owner = await newCustomer();
    const other = await newCustomer();
    const { prediction } = await createPrediction(owner.key);
    const res = await call(`/v1/predictions/${prediction.id}/events`, auth(other.key));
    expect(res.status).toBe(404);
    await waitForJob(prediction.id);
  });
});
