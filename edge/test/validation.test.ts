import { INPUT_IMAGE_BODY_BYTES } from '../../shared/input-image.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_SEED } from '../../shared/prediction.js';
import { auth, call, createBody, jsonInit, newCustomer } from './helpers.js';

interface ProblemBody {
  status: number;
  code: string;
  errors?: { pointer: string; message: string }[];
}

let key: string;
beforeAll(async () => {
  ({ key } = await newCustomer('validation'));
});

const tiny = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) => createBody(input, extra);
const onModel = (model: string, input: Record<string, unknown>) => ({ model, input: { prompt: 'x', ...input } });

/** [name, body, JSON Pointer expected in `errors`] — each must be refused with 422 and store nothing. */
const invalid: [string, unknown, string][] = [
  ['unknown model', { model: 'no-such-model', input: { prompt: 'x' } }, '/model'],
  ['malformed model id', { model: 'Bad Model!', input: { prompt: 'x' } }, '/model'],
  ['missing input', { model: 'sd15-tiny-demo' }, '/input'],
  ['missing prompt', { model: 'sd15-tiny-demo', input: {} }, '/input/prompt'],
  ['empty prompt', tiny({ prompt: '' }), '/input/prompt'],
  ['prompt over 2000 characters', tiny({ prompt: 'a'.repeat(2001) }), '/input/prompt'],
  ['negative prompt over 2000 characters', tiny({ negative_prompt: 'a'.repeat(2001) }), '/input/negative_prompt'],
  ['width not a multiple of 8', tiny({ width: 100 }), '/input/width'],
  ['width below 64', tiny({ width: 56 }), '/input/width'],
  ['height above 2048', tiny({ height: 2056 }), '/input/height'],
  ['width above the model maximum', tiny({ width: 520 }), '/input/width'],
  ['height below the model minimum', onModel('stable-diffusion-1.5', { height: 248 }), '/input/height'],
  ['pixels above the model budget', onModel('stable-diffusion-1.5', { width: 1024, height: 1024 }), '/input/width'],
  ['steps 0', tiny({ num_inference_steps: 0 }), '/input/num_inference_steps'],
  ['steps 151', tiny({ num_inference_steps: 151 }), '/input/num_inference_steps'],
  ['fractional steps', tiny({ num_inference_steps: 2.5 }), '/input/num_inference_steps'],
  ['steps as a string', tiny({ num_inference_steps: '6' }), '/input/num_inference_steps'],
  ['guidance below 0', tiny({ guidance_scale: -0.1 }), '/input/guidance_scale'],
  ['guidance above 30', tiny({ guidance_scale: 30.5 }), '/input/guidance_scale'],
  ['negative seed', tiny({ seed: -1 }), '/input/seed'],
  ['seed above 2^32-1', tiny({ seed: MAX_SEED + 1 }), '/input/seed'],
  ['unknown scheduler', tiny({ scheduler: 'lms' }), '/input/scheduler'],
  ['zero outputs', tiny({ num_outputs: 0 }), '/input/num_outputs'],
  ['nine outputs', tiny({ num_outputs: 9 }), '/input/num_outputs'],
  ['unknown output format', tiny({ output_format: 'gif' }), '/input/output_format'],
  ['output quality 0', tiny({ output_quality: 0 }), '/input/output_quality'],
  ['output quality 101', tiny({ output_quality: 101 }), '/input/output_quality'],
  ['cache interval 0', tiny({ deepcache: { cache_interval: 0 } }), '/input/deepcache/cache_interval'],
  ['cache interval 21', tiny({ deepcache: { cache_interval: 21 } }), '/input/deepcache/cache_interval'],
  ['branch id 12', tiny({ deepcache: { cache_branch_id: 12 } }), '/input/deepcache/cache_branch_id'],
  ['negative branch id', tiny({ deepcache: { cache_branch_id: -1 } }), '/input/deepcache/cache_branch_id'],
  [
    'branch id 9 on SDXL (range 0–8)',
    onModel('stable-diffusion-xl-base-1.0', { deepcache: { cache_branch_id: 9 } }),
    '/input/deepcache/cache_branch_id',
  ],
  ['unknown schedule', tiny({ deepcache: { schedule: 'random' } }), '/input/deepcache/schedule'],
  ['center with the uniform schedule', tiny({ deepcache: { schedule: 'uniform', center: 3 } }), '/input/deepcache/schedule'],
  ['power not above 1', tiny({ deepcache: { schedule: 'nonuniform', power: 1 } }), '/input/deepcache/power'],
  [
    'center beyond the steps',
    tiny({ num_inference_steps: 6, deepcache: { schedule: 'nonuniform', center: 6 } }),
    '/input/deepcache/center',
  ],
  ['deepcache true', tiny({ deepcache: true }), '/input/deepcache'],
  ['unknown top-level field', tiny({}, { stream: true }), '/stream'],
  ['unknown input field', tiny({ strength: 0.5 }), '/input/strength'],
  ['unknown deepcache field', tiny({ deepcache: { cache_layer: 2 } }), '/input/deepcache/cache_layer'],
  ['webhook not a URL', tiny({}, { webhook: 'not a url' }), '/webhook'],
  ['webhook with another scheme', tiny({}, { webhook: 'ftp://example.com/hook' }), '/webhook'],
  ['empty webhook events filter', tiny({}, { webhook: 'https://example.com/h', webhook_events_filter: [] }), '/webhook_events_filter'],
  ['unknown webhook event', tiny({}, { webhook: 'https://example.com/h', webhook_events_filter: ['done'] }), '/webhook_events_filter/0'],
];

async function listCount(): Promise<number> {
  const res = await call('/v1/predictions?limit=100', auth(key));
  return (await res.json<{ results: unknown[] }>()).results.length;
}

describe('POST /v1/predictions validation', () => {
  it.each(invalid)('returns 422 problem for %s', async (_, body, pointer) => {
    const before = await listCount();
    const res = await call('/v1/predictions', jsonInit('POST', body, key));
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = await res.json<ProblemBody>();
    expect(problem.code).toBe('validation-failed');
    expect(problem.errors?.map((e) => e.pointer)).toContain(pointer);
    expect(await listCount()).toBe(before);
  });

  it.each([
    ['steps 1 and guidance 0', { num_inference_steps: 1, guidance_scale: 0 }],
    ['steps 150 and guidance 30', { num_inference_steps: 150, guidance_scale: 30 }],
    ['8 outputs and the largest seed', { num_outputs: 8, seed: MAX_SEED }],
    ['the model’s largest side', { width: 512, height: 512 }],
    ['DeepCache off', { deepcache: false }],
    ['interval 20 and the top branch', { deepcache: { cache_interval: 20, cache_branch_id: 11 } }],
    ['nonuniform with center and power', { num_inference_steps: 20, deepcache: { schedule: 'nonuniform', center: 5, power: 1.5 } }],
  ])('accepts the bound: %s', async (_, input) => {
    const res = await call('/v1/predictions', jsonInit('POST', tiny(input), key));
    expect(res.status).toBe(202);
  });

  it('returns 400 malformed-request for a body that is not JSON', async () => {
    const res = await call('/v1/predictions', jsonInit('POST', '{"model": ', key));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'malformed-request', type: '/problems/malformed-request' });
  });

  it('returns 413 problem for a body above the size limit (routes that take input images allow two of them)', async () => {
    const res = await call('/v1/predictions', jsonInit('POST', tiny({ prompt: 'a'.repeat(INPUT_IMAGE_BODY_BYTES) }), key));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'payload-too-large' });
    const other = await call('/v1/webhooks/secret', jsonInit('POST', { pad: 'a'.repeat(70_000) }, key));
    expect(other.status).toBe(413);
  });

  it.each([
    ['Prefer: wait=abc', { prefer: 'wait=abc' }, '/headers/prefer'],
    ['Cancel-After: soon', { 'cancel-after': 'soon' }, '/headers/cancel-after'],
    ['Cancel-After below 5 s', { 'cancel-after': '2s' }, '/headers/cancel-after'],
    ['Cancel-After above 24 h', { 'cancel-after': '25h' }, '/headers/cancel-after'],
  ])('returns 400 problem for %s', async (_, headers, pointer) => {
    const res = await call('/v1/predictions', jsonInit('POST', tiny({}), key, headers));
    expect(res.status).toBe(400);
    expect((await res.json<ProblemBody>()).errors?.[0]?.pointer).toBe(pointer);
  });

  it('returns 400 problem for a bad list limit', async () => {
    const res = await call('/v1/predictions?limit=0', auth(key));
    expect(res.status).toBe(400);
    expect((await res.json<ProblemBody>()).errors?.[0]?.pointer).toBe('/query/limit');
  });
});
