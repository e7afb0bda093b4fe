import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { findModel, modelCatalog } from '../../shared/models.js';
import { TEST_ORIGIN } from './constants.js';
import { auth, call, jsonInit, newCustomer } from './helpers.js';

/** In the catalogue but left out of this configuration's SERVED_MODELS (edge/vitest.config.ts). */
const UNSERVED = 'stable-diffusion-2.1';
/** Served, and not the demo model: the gate is the served list, not "tiny only". */
const SERVED = 'stable-diffusion-1.5';

interface ProblemBody {
  status: number;
  code: string;
  errors?: { pointer: string; message: string }[];
}

/** What the account has stored: predictions and credit-ledger rows (a top-up is one). */
async function footprint(accountId: string): Promise<{ predictions: number; ledger: number; credits: number }> {
  const [predictions, ledger] = await env.DB.batch<{ n: number; credits: number | null }>([
    env.DB.prepare('SELECT COUNT(*) AS n, NULL AS credits FROM predictions WHERE account_id = ?').bind(accountId),
    env.DB.prepare('SELECT COUNT(*) AS n, SUM(credits) AS credits FROM credit_ledger WHERE account_id = ?').bind(accountId),
  ]);
  return { predictions: predictions?.results[0]?.n ?? -1, ledger: ledger?.results[0]?.n ?? -1, credits: ledger?.results[0]?.credits ?? -1 };
}

function openAIClient(apiKey: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: `${TEST_ORIGIN}/v1`,
    maxRetries: 0,
    fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
  });
}

let customer: { accountId: string; key: string };
beforeAll(async () => {
  customer = await newCustomer('served-models');
});

describe('served models (SERVED_MODELS)', () => {
  it('is configured with a catalogue model left out, so that the refusal below is reachable', () => {
    expect(findModel(UNSERVED)).toBeDefined();
    expect(env.SERVED_MODELS.split(',')).not.toContain(UNSERVED);
    expect(env.SERVED_MODELS.split(',')).toContain(SERVED);
  });

  it('lists only the served models in GET /v1/models, in catalogue order', async () => {
    const res = await call('/v1/models', auth(customer.key));
    expect(res.status).toBe(200);
    const ids = (await res.json<{ data: { id: string }[] }>()).data.map((m) => m.id);
    expect(ids).not.toContain(UNSERVED);
    expect(ids).toEqual(modelCatalog.map((m) => m.id).filter((id) => env.SERVED_MODELS.split(',').includes(id)));
  });

  it('returns 422 validation-failed at /model for a catalogue model that is not served, storing and charging nothing', async () => {
    const before = await footprint(customer.accountId);
    const res = await call(
      '/v1/predictions',
      jsonInit('POST', { model: UNSERVED, input: { prompt: 'a lighthouse', width: 768, height: 768 } }, customer.key),
    );
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await res.json<ProblemBody>();
    expect(problem.code).toBe('validation-failed');
    expect(problem.errors?.map((e) => e.pointer)).toEqual(['/model']);
    expect(await footprint(customer.accountId)).toEqual(before);
  });

  it('accepts a served model that is not the demo model (positive control)', async () => {
    const before = await footprint(customer.accountId);
    const res = await call(
      '/v1/predictions',
      jsonInit('POST', { model: SERVED, input: { prompt: 'a lighthouse', width: 512, height: 512, num_inference_steps: 2 } }, customer.key),
    );
    expect(res.status).toBe(202);
    const after = await footprint(customer.accountId);
    expect(after.predictions).toBe(before.predictions + 1);
    expect(after.credits).toBeLessThan(before.credits);
  });

  it('refuses an unserved model on the OpenAI route with invalid_request_error and param "model"', async () => {
    const before = await footprint(customer.accountId);
    const error = await openAIClient(customer.key)
      .images.generate({ model: UNSERVED, prompt: 'a lighthouse', size: '768x768' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.status).toBe(400);
    expect(bad.param).toBe('model');
    expect(bad.type).toBe('invalid_request_error');
    expect(bad.code).toBe('validation-failed');
    expect(await footprint(customer.accountId)).toEqual(before);
  });

  it('answers the raw OpenAI request with {error:{message,type,param,code}} naming the model', async () => {
    const res = await call('/v1/images/generations', jsonInit('POST', { model: UNSERVED, prompt: 'x' }, customer.key));
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { message: string; type: string; param: string | null; code: string | null } }>();
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'validation-failed' });
    expect(body.error.message).toContain(UNSERVED);
  });
});

describe('GET /v1/models pricing', () => {
  it('shows the MAC formula and examples; no DeepCache and the deepest branch at interval 20 cost almost the same', async () => {
    const res = await call('/v1/models', auth(customer.key));
    const { data } = await res.json<{
      data: Array<{
        id: string;
        default_price_per_image: number;
        pricing: {
          formula: string;
          macs_per_credit: number;
          unet_gmacs_at_default_size: { full: number; shallow: number[] };
          examples: Array<{
            deepcache: false | { cache_interval: number; cache_branch_id: number };
            unet_tmacs: number;
            price_per_image: number;
          }>;
        };
      }>;
    }>();
    const sd15 = data.find((m) => m.id === SERVED)!;
    expect(sd15.pricing.formula).toContain('macs_per_credit');
    expect(sd15.pricing.unet_gmacs_at_default_size.full).toBeCloseTo(401.64, 1);
    expect(sd15.pricing.unet_gmacs_at_default_size.shallow).toHaveLength(12);
    const [plain, b0, deepest] = sd15.pricing.examples;
    expect(plain).toMatchObject({ deepcache: false, price_per_image: 10 });
    expect(deepest?.deepcache).toEqual({ cache_interval: 20, cache_branch_id: 11 });
    expect(deepest!.unet_tmacs / plain!.unet_tmacs).toBeGreaterThan(0.98);
    expect(b0!.price_per_image).toBeLessThan(plain!.price_per_image / 2);
    // A create is charged what the formula says.
    const created = await call(
      '/v1/predictions',
      jsonInit('POST', { model: SERVED, input: { prompt: 'x', deepcache: false } }, customer.key),
    );
    expect((await created.json<{ cost: { credits: number } }>()).cost.credits).toBe(plain!.price_per_image);
  });
});
