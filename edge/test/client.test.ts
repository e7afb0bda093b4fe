import { exports } from 'cloudflare:workers';
import { hc } from 'hono/client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import type { AppType } from '../src/app.js';
import { TEST_ORIGIN } from './constants.js';
import { newCustomer, waitForJob } from './helpers.js';

describe('typed client (hc<AppType>)', () => {
  it('creates and reads predictions with request and response types derived from the routes', async () => {
    const { key } = await newCustomer();
    const client = hc<AppType>(TEST_ORIGIN, {
      headers: { authorization: `Bearer ${key}` },
      fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
    });
    const created = await client.v1.predictions.$post({
      header: {},
      json: { model: 'sd15-tiny-demo', input: { prompt: 'typed', num_inference_steps: 5 } },
    });
    expect(created.status).toBe(202);
    if (created.status !== 202) return;
    const prediction = await created.json();
    expectTypeOf(prediction.status).toEqualTypeOf<Prediction['status']>();
    const read = await client.v1.predictions[':id'].$get({ param: { id: prediction.id } });
    expect(read.status).toBe(200);
    if (read.status === 200) expect((await read.json()).input.prompt).toBe('typed');
    await waitForJob(prediction.id);
  });
});
