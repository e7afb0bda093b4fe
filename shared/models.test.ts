import { describe, expect, it } from 'vitest';
import {
  findModel,
  findModelByRef,
  findModelByVersion,
  modelCatalog,
  modelVersionId,
  qualifiedModelName,
  type ModelSpec,
} from './models.js';
import { CreatePredictionRequest, ModelPredictionRequest } from './prediction.js';

describe('model references', () => {
  it('resolves a bare id and deepcache/<id> to the same model, and nothing else', () => {
    for (const spec of modelCatalog) {
      expect(findModelByRef(spec.id)).toBe(spec);
      expect(findModelByRef(qualifiedModelName(spec))).toBe(spec);
    }
    expect(findModelByRef('someone/sd15-tiny-demo')).toBeUndefined();
    expect(findModelByRef('deepcache/no-such-model')).toBeUndefined();
    expect(findModelByRef('deepcache/deepcache/sd15-tiny-demo')).toBeUndefined();
  });
});

describe('model versions', () => {
  it('are 64 hex digits, one per model, and find their model', async () => {
    const ids = await Promise.all(modelCatalog.map((spec) => modelVersionId(spec)));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(ids).size).toBe(modelCatalog.length);
    for (const [i, spec] of modelCatalog.entries()) expect(await findModelByVersion(ids[i]!)).toBe(spec);
    expect(await findModelByVersion('0'.repeat(64))).toBeUndefined();
  });

  it('are the SHA-256 of the catalogue entry, so they change with the definition', async () => {
    const spec = findModel('sd15-tiny-demo')!;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(spec))));
    expect(await modelVersionId(spec)).toBe(Buffer.from(digest).toString('hex'));
    const changed: ModelSpec = { ...spec, default_steps: spec.default_steps + 1 };
    expect(await modelVersionId(changed)).not.toBe(await modelVersionId(spec));
  });
});

describe('create request bodies', () => {
  const input = { prompt: 'a fox' };
  it('take exactly one of model and version', () => {
    expect(CreatePredictionRequest.safeParse({ model: 'deepcache/sd15-tiny-demo', input }).success).toBe(true);
    expect(CreatePredictionRequest.safeParse({ version: 'deepcache/sd15-tiny-demo', input }).success).toBe(true);
    expect(CreatePredictionRequest.safeParse({ version: 'a'.repeat(64), input }).success).toBe(true);
    expect(CreatePredictionRequest.safeParse({ version: `deepcache/sd15-tiny-demo:${'a'.repeat(64)}`, input }).success).toBe(true);
    const neither = CreatePredictionRequest.safeParse({ input });
    expect(neither.error?.issues.map((i) => i.path.join('/'))).toEqual(['model']);
    const both = CreatePredictionRequest.safeParse({ model: 'sd15-tiny-demo', version: 'a'.repeat(64), input });
    expect(both.error?.issues.map((i) => i.path.join('/'))).toEqual(['version']);
    expect(CreatePredictionRequest.safeParse({ version: 'A'.repeat(64), input }).success).toBe(false);
    expect(CreatePredictionRequest.safeParse({ version: `deepcache/sd15-tiny-demo:${'a'.repeat(63)}`, input }).success).toBe(false);
  });

  it('on the models route have no model field', () => {
    expect(ModelPredictionRequest.safeParse({ input }).success).toBe(true);
    expect(ModelPredictionRequest.safeParse({ input, model: 'sd15-tiny-demo' }).success).toBe(false);
  });
});
