/**
 * The official `replicate` package against the real local stack, used as its users write it, with only
 * `baseUrl` changed: `run` (blocking and polling), `predictions.create` + `wait`, get / cancel / list with
 * pagination, `models.get`, the default webhook secret and `validateWebhook` on a delivery the edge sent.
 * Output URLs are presigned for an HTTPS front of the S3 server (`S3_PUBLIC_ENDPOINT`), so `run` returns
 * `FileOutput`s as it does against Replicate; the client's `fetch` trusts that front's self-signed certificate.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Replicate, { validateWebhook, type FileOutput, type Prediction } from 'replicate';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/ports.js';
import { call, eventually } from './helpers/api.js';
import { useStack } from './helpers/stack-fixture.js';
import { selfSignedCertificate, startTlsFront, trustingFetch, type TlsFront } from './helpers/tls-front.js';

const MODEL = 'deepcache/sd15-tiny-demo';
const input = { prompt: 'a red fox in the snow', width: 64, height: 64, num_inference_steps: 4 };

const tls = selfSignedCertificate();
const frontPort = await freePort();
// More concurrent predictions than the default 8, for the pagination test's 21 creates.
const h = useStack({ edgeVars: { S3_PUBLIC_ENDPOINT: `https://127.0.0.1:${frontPort}`, DEFAULT_CONCURRENT_PREDICTIONS: '100' } });
let front: TlsFront;
let replicate: Replicate;
beforeAll(async () => {
  front = await startTlsFront(frontPort, tls, () => h.stack.s3Endpoint);
  replicate = new Replicate({ auth: h.stack.apiKey, baseUrl: `${h.stack.edgeUrl}/v1`, fetch: trustingFetch(tls.cert) });
});
afterAll(() => front?.close());

/** Reads a FileOutput the way the client's README shows (`blob()`), and describes the image. */
async function imageOf(file: FileOutput): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const meta = await sharp(Buffer.from(await (await file.blob()).arrayBuffer())).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

describe('replicate.run', () => {
  it('blocks (Prefer: wait) and returns FileOutputs of https URLs that read as the PNG', async () => {
    const seen: string[] = [];
    const output = (await replicate.run(MODEL, { input: { ...input, seed: 1 } }, (p) => seen.push(p.status))) as FileOutput[];
    // The create itself answered with the finished prediction: no polling was needed.
    expect(seen[0]).toBe('succeeded');
    expect(output).toHaveLength(1);
    expect(output[0]).toBeInstanceOf(ReadableStream);
    expect(output[0]!.url().origin).toBe(front.url);
    expect(await imageOf(output[0]!)).toEqual({ format: 'png', width: 64, height: 64 });
  });

  it('polls with wait: {mode: "poll"}, for a pinned owner/name:version too', async () => {
    const model = await replicate.models.get('deepcache', 'sd15-tiny-demo');
    const version = model.latest_version!.id;
    const seen: string[] = [];
    const output = (await replicate.run(
      `${MODEL}:${version}`,
      { input: { ...input, num_outputs: 2, output_format: 'webp' }, wait: { mode: 'poll', interval: 200 } },
      (p) => seen.push(p.status),
    )) as FileOutput[];
    expect(seen[0]).toBe('starting');
    expect(seen.at(-1)).toBe('succeeded');
    expect(output).toHaveLength(2);
    for (const file of output) expect(await imageOf(file)).toEqual({ format: 'webp', width: 64, height: 64 });
  });

  it('rejects with the prediction error when the input does not fit the model (422 from the edge)', async () => {
    await expect(replicate.run(MODEL, { input: { ...input, width: 72 } })).rejects.toMatchObject({
      name: 'ApiError',
      response: { status: 422 },
    });
  });
});

describe('predictions', () => {
  it('predictions.create + replicate.wait: the prediction object carries what the client reads', async () => {
    const created = await replicate.predictions.create({ model: MODEL, input: { ...input, seed: 3 } });
    expect(created.status).toBe('starting');
    expect(created.urls.get).toBe(`${h.stack.edgeUrl}/v1/predictions/${created.id}`);
    const done = await replicate.wait(created, { interval: 200 });
    expect(done.status).toBe('succeeded');
    expect(done.error).toBeNull();
    expect(done.logs).toContain('seed: 3');
    expect(done.metrics?.predict_time).toBeGreaterThan(0);
    expect((done.output as string[])[0]).toMatch(new RegExp(`^${front.url}/`));
    expect((await replicate.predictions.get(created.id)).status).toBe('succeeded');
  });

  it('predictions.cancel cancels a running prediction', async () => {
    const created = await replicate.predictions.create({
      model: MODEL,
      input: { ...input, width: 256, height: 256, num_inference_steps: 30, deepcache: false },
    });
    const canceled = await replicate.predictions.cancel(created.id);
    expect(canceled.status).toBe('canceled');
    expect((await replicate.wait(canceled, {})).status).toBe('canceled');
  });

  it('paginate(predictions.list) follows next through every prediction, newest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 21; i++) ids.push((await replicate.predictions.create({ model: MODEL, input: { ...input, seed: i } })).id);
    const pages: Prediction[][] = [];
    for await (const page of replicate.paginate(() => replicate.predictions.list())) pages.push(page);
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages[0]).toHaveLength(20);
    const all = pages.flat().map((p) => p.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.slice(0, 21)).toEqual(ids.toReversed());
    for (const id of ids) expect((await replicate.wait({ id } as Prediction, { interval: 200 })).status).toBe('succeeded');
  }, 180_000);

  it('models.get describes the served model; an unknown one rejects with the 404', async () => {
    const model = await replicate.models.get('deepcache', 'sd15-tiny-demo');
    expect(model).toMatchObject({ owner: 'deepcache', name: 'sd15-tiny-demo', visibility: 'public' });
    await expect(replicate.models.get('deepcache', 'no-such-model')).rejects.toMatchObject({ name: 'ApiError', response: { status: 404 } });
  });
});

describe('webhooks', () => {
  it('a delivery verifies with validateWebhook and the secret from webhooks.default.secret.get(); a changed body does not', async () => {
    const { key } = await replicate.webhooks.default.secret.get();
    expect(key).toMatch(/^whsec_/);
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await replicate.predictions.create({ model: MODEL, input, webhook: url, webhook_events_filter: ['completed'] });
      const delivery = await eventually(
        'the completed delivery',
        async () => received.find((d) => (JSON.parse(d.body) as Prediction).id === created.id),
        60_000,
      );
      const headers = {
        'webhook-id': String(delivery.headers['webhook-id']),
        'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
        'webhook-signature': String(delivery.headers['webhook-signature']),
      };
      // As a handler gets it: a fetch Request with the delivery's headers and body.
      const asRequest = (body: string): Request =>
        new Request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(await validateWebhook(asRequest(delivery.body), key)).toBe(true);
      expect(
        await validateWebhook({
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          signature: headers['webhook-signature'],
          body: delivery.body,
          secret: key,
        }),
      ).toBe(true);
      expect(await validateWebhook(asRequest(delivery.body.replace('"succeeded"', '"failed"')), key)).toBe(false);
      expect((JSON.parse(delivery.body) as Prediction).status).toBe('succeeded');
      // The edge records the 2xx once the receiver's answer is back.
      const log = await eventually('the delivery recorded as delivered', async () => {
        const res = await call<{ data: { status: string }[] }>(h.stack, 'GET', `/v1/predictions/${created.id}/webhooks`);
        return res.body.data.every((d) => d.status !== 'pending' && d.status !== 'sending') ? res.body.data : undefined;
      });
      expect(log.map((d) => d.status)).toEqual(['delivered']);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
