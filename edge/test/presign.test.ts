import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { configFrom, EdgeConfig } from '../src/config.js';
import { presignGet } from '../src/storage/s3.js';
import { createPrediction, getPrediction, newCustomer, runToSuccess } from './helpers.js';

async function succeededOutput(): Promise<{ key: string; id: string; url: string }> {
  const { key } = await newCustomer();
  const { prediction } = await createPrediction(key);
  await runToSuccess(prediction.id);
  const done = await getPrediction(key, prediction.id);
  return { key, id: prediction.id, url: done.output?.[0] ?? '' };
}

describe('presigned output URLs', () => {
  it('are valid for the configured lifetime and fetch the image', async () => {
    const { url } = await succeededOutput();
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe(env.S3_URL_TTL_SECONDS);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
  });

  it('are minted fresh on every read', async () => {
    const { key, id, url } = await succeededOutput();
    await new Promise((r) => setTimeout(r, 1100));
    const again = (await getPrediction(key, id)).output?.[0];
    expect(again).not.toBe(url);
    expect((await fetch(again ?? '')).status).toBe(200);
  });

  it('are refused by S3 when tampered with', async () => {
    const { url } = await succeededOutput();
    const signature = new URL(url).searchParams.get('X-Amz-Signature') ?? '';
    const flipped = url.replace(signature, `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
    const otherKey = url.replace('/0.png', '/1.png');
    const longer = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800');
    for (const bad of [flipped, otherKey, longer]) {
      const res = await fetch(bad);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('SignatureDoesNotMatch');
    }
  });

  it('are refused by S3 once expired', async () => {
    const { url } = await succeededOutput();
    const objectKey = decodeURIComponent(new URL(url).pathname).replace(`/${env.S3_BUCKET}/`, '');
    const expired = await presignGet(configFrom(env), objectKey, { ttlSeconds: 60, nowMs: Date.now() - 120_000 });
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('AccessDenied');
  });
});

describe('S3_PUBLIC_ENDPOINT', () => {
  it('makes presigned URLs name the public origin (same bucket path and signature parameters); only http(s) is accepted', async () => {
    const config = configFrom(env);
    const url = new URL(await presignGet({ ...config, S3_PUBLIC_ENDPOINT: 'https://files.example.test' }, 'predictions/p1/0.png'));
    const internal = new URL(await presignGet(config, 'predictions/p1/0.png'));
    expect(url.origin).toBe('https://files.example.test');
    expect(url.pathname).toBe(internal.pathname);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(internal.searchParams.get('X-Amz-Signature'));
    expect(EdgeConfig.safeParse({ ...env, S3_PUBLIC_ENDPOINT: 'ftp://files.example.test' }).success).toBe(false);
    expect(EdgeConfig.parse({ ...env, S3_PUBLIC_ENDPOINT: 'https://files.example.test/' }).S3_PUBLIC_ENDPOINT).toBe(
      'https://files.example.test',
    );
  });
});
