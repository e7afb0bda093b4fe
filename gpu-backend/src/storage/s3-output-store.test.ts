import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3OutputStore, outputKey } from './s3-output-store.js';
import { startTestS3, type TestS3 } from '../../../test/support/s3.js';

describe('S3 output store', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(() => s3.close());

  const store = (secretAccessKey = 'S3RVER') =>
    createS3OutputStore({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      bucket: s3.bucket,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey },
      maxAttempts: 1,
    });

  it('builds keys as <prefix>/<prediction id>/<index>.<ext>', () => {
    expect(outputKey('outputs/2026', 'abc', 2, 'webp')).toBe('outputs/2026/abc/2.webp');
    expect(outputKey('outputs/', 'abc', 0, 'png')).toBe('outputs/abc/0.png');
  });

  it('writes the body with content type and metadata, and a second put overwrites the same key', async () => {
    const key = outputKey('outputs', 'pred_store_0000001', 0, 'png');
    await store().putImage({ key, body: new Uint8Array([1, 2, 3]), contentType: 'image/png', metadata: { seed: '42', model: 'm' } });
    await store().putImage({ key, body: new Uint8Array([4, 5]), contentType: 'image/png', metadata: { seed: '43', model: 'm' } });
    const got = await s3.getObject(key);
    expect([...got.body]).toEqual([4, 5]);
    expect(got.contentType).toBe('image/png');
    expect(got.metadata).toEqual({ seed: '43', model: 'm' });
  });

  it('reads an object back by key and refuses one above the size limit', async () => {
    const key = 'outputs/pred_store_0000002/input/image';
    await store().putImage({ key, body: new Uint8Array([9, 8, 7, 6]), contentType: 'image/png', metadata: {} });
    expect([...(await store().getObject(key, 4))]).toEqual([9, 8, 7, 6]);
    await expect(store().getObject(key, 3)).rejects.toThrow(/more than 3/);
    await expect(store().getObject('outputs/none', 10)).rejects.toThrow();
  });

  it('fails when the signature is wrong (the server verifies SigV4)', async () => {
    await expect(
      store('wrong-secret').putImage({ key: 'outputs/x/0.png', body: new Uint8Array([1]), contentType: 'image/png', metadata: {} }),
    ).rejects.toThrow();
  });
});
