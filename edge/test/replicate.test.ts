/**
 * Replicate's HTTP API shape, driven through the official `replicate` package (its `fetch` goes into the worker):
 * models by `owner/name` with versions, creates through the models route and through `version`, the
 * `starting` convention for an expired wait, lists with pagination, the default webhook secret, and the
 * precise 4xx answers for unknown owners, names and versions.
 */
import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import Replicate, { type Prediction as ReplicatePrediction } from 'replicate';
import { beforeAll, describe, expect, it } from 'vitest';
import { findModel, modelVersionId, MODEL_OWNER } from '../../shared/models.js';
import type { Prediction } from '../../shared/prediction.js';
import { TEST_ORIGIN } from './constants.js';
import { auth, call, createBody, deliver, getPrediction, jsonInit, newCustomer, runToSuccess, waitForJob } from './helpers.js';

const MODEL = `${MODEL_OWNER}/sd15-tiny-demo`;
const input = { prompt: 'a red square', num_inference_steps: 6 };

function client(key: string): Replicate {
  return new Replicate({
    auth: key,
    baseUrl: `${TEST_ORIGIN}/v1`,
    fetch: (url, init) => exports.default.fetch(new Request(url as RequestInfo, init as RequestInit)),
  });
}

interface ProblemBody {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: { pointer: string; message: string }[];
}

/** The client's ApiError as status + problem body. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; type: string | null; body: ProblemBody }> {
  const err = await promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: unknown) => e as { name: string; response: Response; message: string },
  );
  expect(err.name).toBe('ApiError');
  const text = /: (\{.*\})\.$/s.exec(err.message)?.[1] ?? '{}';
  return { status: err.response.status, type: err.response.headers.get('content-type'), body: JSON.parse(text) as ProblemBody };
}

let me: { accountId: string; key: string };
let replicate: Replicate;
let version: string;
beforeAll(async () => {
  me = await newCustomer('replicate-client');
  replicate = client(me.key);
  version = await modelVersionId(findModel('sd15-tiny-demo')!);
});

describe('models by owner/name', () => {
  it('models.get returns the served model with its current version and input schema', async () => {
    const model = await replicate.models.get(MODEL_OWNER, 'sd15-tiny-demo');
    expect(model).toMatchObject({
      owner: MODEL_OWNER,
      name: 'sd15-tiny-demo',
      url: `${TEST_ORIGIN}/v1/models/${MODEL}`,
      visibility: 'public',
    });
    expect(model.latest_version?.id).toBe(version);
    expect(version).toMatch(/^[0-9a-f]{64}$/);
    const schema = model.latest_version?.openapi_schema as {
      components: { schemas: { Input: { properties: Record<string, { default?: unknown; minimum?: number }> } } };
    };
    expect(schema.components.schemas.Input.properties.width).toMatchObject({ default: 64, minimum: 64 });
    expect((model as unknown as { deepcache: { id: string } }).deepcache.id).toBe('sd15-tiny-demo');
    // Names with dots route too; each model has its own version.
    const sdxl = await replicate.models.get(MODEL_OWNER, 'stable-diffusion-xl-base-1.0');
    expect(sdxl.latest_version?.id).toBe(await modelVersionId(findModel('stable-diffusion-xl-base-1.0')!));
    expect(sdxl.latest_version?.id).not.toBe(version);
  });

  it('models.list pages the served models, next to the native list', async () => {
    const pages: { owner: string; name: string }[][] = [];
    for await (const page of replicate.paginate(() => replicate.models.list())) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.map((m) => `${m.owner}/${m.name}`)).toEqual([
      'deepcache/sd15-tiny-demo',
      'deepcache/stable-diffusion-1.5',
      'deepcache/stable-diffusion-xl-base-1.0',
    ]);
    const native = await (await call('/v1/models', auth(me.key))).json<{ data: { id: string }[] }>();
    expect(native.data.map((m) => m.id)).toEqual(['sd15-tiny-demo', 'stable-diffusion-1.5', 'stable-diffusion-xl-base-1.0']);
  });

  it('models.versions.list and get name the current version; another id is 404', async () => {
    const versions = await replicate.models.versions.list(MODEL_OWNER, 'sd15-tiny-demo');
    expect(versions.results.map((v) => v.id)).toEqual([version]);
    expect((await replicate.models.versions.get(MODEL_OWNER, 'sd15-tiny-demo', version)).id).toBe(version);
    const other = await modelVersionId(findModel('stable-diffusion-1.5')!);
    const res = await failure(replicate.models.versions.get(MODEL_OWNER, 'sd15-tiny-demo', other));
    expect(res).toMatchObject({ status: 404, type: 'application/problem+json', body: { code: 'not-found' } });
  });

  it('answers 404 problem+json for an unknown owner, an unknown name and a catalogue model that is not served', async () => {
    for (const [owner, name] of [
      ['someone-else', 'sd15-tiny-demo'],
      [MODEL_OWNER, 'no-such-model'],
      [MODEL_OWNER, 'stable-diffusion-2.1'],
    ] as const) {
      const res = await failure(replicate.models.get(owner, name));
      expect(res, `${owner}/${name}`).toMatchObject({
        status: 404,
        type: 'application/problem+json',
        body: { code: 'not-found', title: 'Not found' },
      });
      expect(res.body.detail).toContain(`${owner}/${name}`);
    }
    const created = await call(`/v1/models/someone-else/sd15-tiny-demo/predictions`, jsonInit('POST', { input }, me.key));
    expect(created.status).toBe(404);
  });

  it('answers 400 for an owner or name that cannot be one', async () => {
    const res = await call('/v1/models/Bad%20Owner/sd15-tiny-demo', auth(me.key));
    expect(res.status).toBe(400);
    expect((await res.json<ProblemBody>()).errors?.map((e) => e.pointer)).toEqual(['/param/owner']);
  });
});

describe('creating predictions', () => {
  it('predictions.create({model: owner/name}) uses the models route; the prediction carries Replicate’s fields', async () => {
    const created = (await replicate.predictions.create({ model: MODEL, input })) as ReplicatePrediction & Prediction;
    expect(created.status).toBe('starting');
    expect(created).toMatchObject({ model: 'sd15-tiny-demo', version, source: 'api', data_removed: false });
    expect(created.urls).toEqual({
      get: `${TEST_ORIGIN}/v1/predictions/${created.id}`,
      cancel: `${TEST_ORIGIN}/v1/predictions/${created.id}/cancel`,
      stream: `${TEST_ORIGIN}/v1/predictions/${created.id}/events`,
      web: `${TEST_ORIGIN}/?prediction=${created.id}`,
    });
    await runToSuccess(created.id);
    const done = await replicate.wait(created, { interval: 50 });
    expect(done.status).toBe('succeeded');
    expect(done.output).toHaveLength(1);
    expect(typeof done.logs).toBe('string');
    expect(done.metrics?.total_time).toBeGreaterThanOrEqual(0);
  });

  it('predictions.create({version}) posts to /v1/predictions with a version id, owner/name:version or owner/name', async () => {
    for (const ref of [version, `${MODEL}:${version}`, MODEL]) {
      const created = await replicate.predictions.create({ version: ref, input });
      expect(created.version, ref).toBe(version);
      expect((await getPrediction(me.key, created.id)).model).toBe('sd15-tiny-demo');
    }
  });

  it('refuses a version that is not the model’s, an unknown one, both model and version, and neither, with 422 at the field', async () => {
    const other = await modelVersionId(findModel('stable-diffusion-1.5')!);
    const cases: [unknown, string][] = [
      [{ version: `${MODEL}:${other}`, input }, '/version'],
      [{ version: '0'.repeat(64), input }, '/version'],
      [{ version: 'someone-else/sd15-tiny-demo', input }, '/version'],
      [{ version: 'not a version', input }, '/version'],
      [{ model: MODEL, version, input }, '/version'],
      [{ input }, '/model'],
      [{ model: 'someone-else/sd15-tiny-demo', input }, '/model'],
    ];
    for (const [body, pointer] of cases) {
      const res = await call('/v1/predictions', jsonInit('POST', body, me.key));
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(
        (await res.json<ProblemBody>()).errors?.map((e) => e.pointer),
        JSON.stringify(body),
      ).toEqual([pointer]);
    }
    const unserved = await call(
      '/v1/predictions',
      jsonInit('POST', { version: `${MODEL_OWNER}/stable-diffusion-2.1`, input: { prompt: 'x' } }, me.key),
    );
    expect(unserved.status).toBe(422);
    expect((await unserved.json<ProblemBody>()).errors?.[0]).toEqual({
      pointer: '/version',
      message: 'model not served (see GET /v1/models)',
    });
  });

  it('accepts owner/name as the native model field too', async () => {
    const res = await call('/v1/predictions', jsonInit('POST', createBody({}, { model: MODEL }), me.key));
    expect(res.status).toBe(202);
    expect((await res.json<Prediction>()).model).toBe('sd15-tiny-demo');
  });

  it('refuses unknown fields on the models route with 422 and stores nothing', async () => {
    const before = await (await call('/v1/predictions', auth(me.key))).json<{ results: unknown[] }>();
    const res = await call(`/v1/models/${MODEL}/predictions`, jsonInit('POST', { input, model: MODEL }, me.key));
    expect(res.status).toBe(422);
    expect((await res.json<ProblemBody>()).errors?.map((e) => e.pointer)).toEqual(['/model']);
    const after = await (await call('/v1/predictions', auth(me.key))).json<{ results: unknown[] }>();
    expect(after.results.length).toBe(before.results.length);
  });

  it('reports an expired Prefer: wait as starting on Replicate creates, while the native route reports the real status', async () => {
    const who = await newCustomer('replicate-wait');
    for (const [path, body, expected] of [
      [`/v1/models/${MODEL}/predictions`, { input }, 'starting'],
      ['/v1/predictions', createBody(), 'processing'],
    ] as const) {
      const pending = call(path, jsonInit('POST', body, who.key, { prefer: 'wait=20' }));
      // While the create waits: find the new prediction, and have the backend report that it started.
      let id: string | undefined;
      for (let i = 0; i < 400 && id === undefined; i++) {
        const page = await (await call('/v1/predictions', auth(who.key))).json<{ results: Prediction[] }>();
        id = page.results.find((p) => p.status === 'starting')?.id;
        if (id === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      if (id === undefined) throw new Error('the waiting create stored no prediction');
      const { backend } = await waitForJob(id);
      expect((await deliver(backend, id, { type: 'started' })).status).toBe(200);
      expect((await getPrediction(who.key, id)).status).toBe('processing');
      const res = await pending;
      expect(res.status, path).toBe(202);
      expect(res.headers.get('preference-applied')).toBe('wait=20');
      expect((await res.json<Prediction>()).status, path).toBe(expected);
      await runToSuccess(id).catch(() => undefined);
    }
  }, 90_000);

  it('records a Cancel-After deadline on the prediction (Replicate’s deadline field)', async () => {
    const res = await call(`/v1/models/${MODEL}/predictions`, jsonInit('POST', { input }, me.key, { 'cancel-after': '5m' }));
    expect(res.status).toBe(202);
    const created = await res.json<Prediction>();
    expect(Date.parse(created.deadline!) - Date.parse(created.created_at)).toBeGreaterThanOrEqual(299_000);
    const bad = await call(`/v1/models/${MODEL}/predictions`, jsonInit('POST', { input }, me.key, { 'cancel-after': 'soon' }));
    expect(bad.status).toBe(400);
    expect((await bad.json<ProblemBody>()).errors?.map((e) => e.pointer)).toEqual(['/headers/cancel-after']);
  });
});

describe('lists, cancel and the webhook secret', () => {
  it('paginate(predictions.list) follows next across pages of 20, newest first, only the caller’s', async () => {
    const who = await newCustomer('replicate-list');
    const mine = client(who.key);
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push((await mine.predictions.create({ model: MODEL, input })).id);
    await replicate.predictions.create({ model: MODEL, input });
    const pages: string[][] = [];
    for await (const page of mine.paginate(() => mine.predictions.list())) pages.push(page.map((p) => p.id));
    expect(pages.map((p) => p.length)).toEqual([20, 3]);
    expect(pages.flat()).toEqual(ids.toReversed());
  }, 60_000);

  it('predictions.get and predictions.cancel; canceling again is a no-op, and an unknown id is 404', async () => {
    const created = await replicate.predictions.create({ model: MODEL, input });
    expect((await replicate.predictions.get(created.id)).id).toBe(created.id);
    expect((await replicate.predictions.cancel(created.id)).status).toBe('canceled');
    expect((await replicate.predictions.cancel(created.id)).status).toBe('canceled');
    const res = await failure(replicate.predictions.get('doesnotexist0000000000'));
    expect(res).toMatchObject({ status: 404, type: 'application/problem+json', body: { code: 'not-found' } });
  });

  it('webhooks.default.secret.get() returns the account’s signing secret', async () => {
    const secret = await replicate.webhooks.default.secret.get();
    expect(secret.key).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const native = await (await call('/v1/webhooks/secret', auth(me.key))).json<{ key: string }>();
    expect(secret.key).toBe(native.key);
  });
});

describe('the OpenAI route without model', () => {
  it('generates with the served default (the first of SERVED_MODELS), as OpenAI defaults model', async () => {
    const who = await newCustomer('openai-default');
    const openai = new OpenAI({
      apiKey: who.key,
      baseURL: `${TEST_ORIGIN}/v1`,
      maxRetries: 0,
      fetch: (url, init) => exports.default.fetch(new Request(url as RequestInfo, init as RequestInit)),
    });
    const pending = openai.images.generate({ prompt: 'a lighthouse', size: '64x64' as '256x256' });
    let newest: Prediction | undefined;
    for (let i = 0; i < 400 && newest === undefined; i++) {
      newest = (await (await call('/v1/predictions?limit=1', auth(who.key))).json<{ results: Prediction[] }>()).results[0];
      if (newest === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    if (newest === undefined) throw new Error('no prediction appeared');
    await runToSuccess(newest.id);
    expect((await pending).data).toHaveLength(1);
    expect(newest.model).toBe(env.SERVED_MODELS.split(',')[0]);
  });
});

describe('the OpenAPI document', () => {
  it('covers the Replicate-shaped routes and version on POST /v1/predictions', async () => {
    const doc = await (await call('/openapi.json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/models/{owner}/{name}',
        '/v1/models/{owner}/{name}/versions',
        '/v1/models/{owner}/{name}/versions/{version_id}',
        '/v1/models/{owner}/{name}/predictions',
        '/v1/webhooks/default/secret',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/models/{owner}/{name}/predictions']?.post?.responses ?? {})).toEqual([
      '201',
      '202',
      '400',
      '401',
      '402',
      '404',
      '409',
      '413',
      '422',
      '429',
      '500',
      '503',
    ]);
    expect(Object.keys(doc.components.schemas.CreatePredictionRequest?.properties ?? {})).toEqual(
      expect.arrayContaining(['model', 'version', 'input']),
    );
    expect(Object.keys(doc.components.schemas.Prediction?.properties ?? {})).toEqual(
      expect.arrayContaining(['version', 'source', 'data_removed', 'deadline']),
    );
    expect(Object.keys(doc.components.schemas.ModelList?.properties ?? {})).toEqual(['data', 'previous', 'next', 'results']);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['ReplicateModel', 'ModelVersion', 'ModelPredictionRequest']),
    );
  });
});
