/**
 * `GET /v1/predictions/:id/events`: Server-Sent Events with the prediction's status changes (`status`) and
 * per-step progress (`progress`); at the end one `completed` event with the full prediction, then `done`.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { PredictionId } from '../../../shared/internal.js';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { isTerminal } from '../../../shared/prediction.js';
import type { AppEnv } from '../app-env.js';
import { ChannelEvent } from '../channel/events.js';
import { channelOf } from '../channel/prediction-channel.js';
import { meterOf } from '../billing/account-meter.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { presentPrediction } from '../predictions/present.js';
import { getOwnPredictionRow, getPredictionRow, type PredictionRow } from '../predictions/row.js';
import { problemResponse, rateLimitedResponse } from '../schemas/components.js';

export const predictionEventsRoute = createRoute({
  method: 'get',
  path: '/v1/predictions/{id}/events',
  tags: ['predictions'],
  summary: 'Stream status and progress (Server-Sent Events)',
  description:
    'Events: `status` `{id,status}` on every status change (the current one first), `progress` `{step,total}` per denoising step, `completed` with the prediction object when it ends, then `done`; the stream then closes. A `: heartbeat` comment every SSE_HEARTBEAT_S (15) seconds without events; the stream also ends when the prediction ended but its event was lost. At most MAX_SSE_STREAMS_PER_KEY (10) open streams per key (429 `quota-exceeded`).',
  security: [{ bearerAuth: [] }],
  request: { params: z.object({ id: PredictionId }) },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
    400: problemResponse('Malformed id'),
    401: problemResponse('Missing, invalid or revoked API key'),
    429: rateLimitedResponse(),
    404: problemResponse('No prediction with this id for this account'),
    500: problemResponse('Internal error'),
  },
});

async function* channelEvents(env: Env, id: string): AsyncGenerator<ChannelEvent> {
  const res = await channelOf(env, id).fetch('https://channel/stream');
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const parsed = ChannelEvent.safeParse(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
      if (parsed.success) yield parsed.data;
    }
  }
}

async function sendEnd(stream: SSEStreamingApi, env: Env, row: PredictionRow): Promise<void> {
  const prediction = await presentPrediction(configFrom(env), row);
  await stream.writeSSE({ event: 'completed', data: JSON.stringify(prediction) });
  await stream.writeSSE({ event: 'done', data: JSON.stringify({ status: row.status }) });
}

/** Sub-app with the SSE route. */
export const predictionEventRoutes = new OpenAPIHono<AppEnv>({ defaultHook }).openapi(predictionEventsRoute, async (c) => {
  const caller = c.get('caller');
  const row = await getOwnPredictionRow(c.env.DB, caller.accountId, c.req.valid('param').id);
  if (!row) throw new ApiError(404, 'not-found', 'No prediction with this id');
  const env = c.env;
  const { MAX_SSE_STREAMS_PER_KEY: max, SSE_HEARTBEAT_S } = configFrom(env);
  const heartbeatMs = SSE_HEARTBEAT_S * 1000;
  // A lease per open stream, renewed at every heartbeat: a stream that dies without closing frees its slot.
  const meter = meterOf(env, caller.accountId);
  const lease = {
    accountId: caller.accountId,
    keyId: caller.keyId,
    leaseId: crypto.randomUUID(),
    ttlMs: Math.max(1000, 3 * heartbeatMs),
    max,
  };
  if (!isTerminal(row.status)) {
    const taken = await meter.leaseStream(lease);
    if (!taken.ok) {
      throw new ApiError(
        429,
        'quota-exceeded',
        `This API key already has ${taken.open} open event streams (limit ${max}); close one or poll GET /v1/predictions/{id}`,
        { headers: { 'retry-after': String(SSE_HEARTBEAT_S) } },
      );
    }
  }
  return streamSSE(c, async (stream) => {
    const status = row.status;
    await stream.writeSSE({ event: 'status', data: JSON.stringify({ id: row.id, status }) });
    if (isTerminal(status)) return sendEnd(stream, env, row);
    try {
      await follow(stream, env, row, heartbeatMs, () => meter.leaseStream(lease));
    } finally {
      await meter.releaseStream(lease.leaseId).catch(() => undefined);
    }
  });
});

/**
 * Forwards the channel's events until the prediction ends. Every `heartbeatMs` without an event a comment line
 * keeps proxies from closing the stream, the lease is renewed, and D1 is read again: a prediction that ended
 * while its terminal event was lost still ends the stream.
 */
async function follow(
  stream: SSEStreamingApi,
  env: Env,
  row: PredictionRow,
  heartbeatMs: number,
  renew: () => Promise<unknown>,
): Promise<void> {
  let status = row.status;
  const events = channelEvents(env, row.id)[Symbol.asyncIterator]();
  let next = events.next();
  try {
    for (;;) {
      if (stream.aborted) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => resolve('tick'), heartbeatMs);
      });
      const got = await Promise.race([next, tick]);
      clearTimeout(timer);
      if (got === 'tick') {
        await stream.write(': heartbeat\n\n');
        await renew();
        const now = await getPredictionRow(env.DB, row.id);
        if (now && isTerminal(now.status)) break;
        continue;
      }
      if (got.done) break;
      next = events.next();
      const event = got.value;
      if (event.type === 'progress') {
        await stream.writeSSE({ event: 'progress', data: JSON.stringify({ step: event.step, total: event.total }) });
      } else if (event.status !== status) {
        status = event.status;
        await stream.writeSSE({ event: 'status', data: JSON.stringify({ id: row.id, status }) });
      }
      if (isTerminal(status)) break;
    }
  } finally {
    void events.return?.(undefined);
  }
  // The channel closed or the prediction ended: D1 says how it ended.
  const last = (await getPredictionRow(env.DB, row.id)) ?? row;
  if (isTerminal(last.status)) {
    if (last.status !== status) await stream.writeSSE({ event: 'status', data: JSON.stringify({ id: row.id, status: last.status }) });
    await sendEnd(stream, env, last);
  }
}
