/// <reference lib="dom" />
/**
 * The playground in headless Chromium (Debian's `chromium`, driven by playwright-core) against the real local
 * stack: fill the form, generate, and see the image load; drop an input image and paint a mask.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/stack/start-stack.js';
import { useStack } from './helpers/stack-fixture.js';

/** Debian's chromium by default; `CHROMIUM_PATH` names another build. A missing browser fails the file. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const h = useStack();
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does) or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('playground', () => {
  it('generates an image from the form, with progress from the event stream and the step timings', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    await page.goto(`${h.stack.edgeUrl}/`);
    await page.fill('#key', h.stack.apiKey);
    await page.fill('#prompt', 'a lighthouse at dusk');
    await page.fill('#negative', 'blurry');
    await page.fill('#width', '128');
    await page.fill('#height', '64');
    await page.fill('#steps', '8');
    await page.selectOption('#scheduler', 'euler');
    await page.fill('#seed', '42');
    await page.fill('#interval', '2');
    await page.fill('#branch', '1');
    await page.click('#generate');

    await page.waitForFunction(
      () => {
        const img = document.getElementById('image') as HTMLImageElement | null;
        return img?.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 240_000 },
    );
    const size = await page.$eval('#image', (img) => ({
      w: (img as HTMLImageElement).naturalWidth,
      h: (img as HTMLImageElement).naturalHeight,
    }));
    expect(size).toEqual({ w: 128, h: 64 });
    expect(await page.textContent('#status')).toMatch(/^succeeded/);
    expect(await page.$eval('#progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([8, 8]);
    expect(await page.textContent('#timings')).toContain('U-Net steps: 4 full, 4 shallow');

    const shots = path.join(REPO_ROOT, '.local/screenshots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'playground.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a prediction at its urls.web once the API key is entered', async () => {
    const res = await fetch(`${h.stack.edgeUrl}/v1/predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.stack.apiKey}`, 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({
        model: 'deepcache/sd15-tiny-demo',
        input: { prompt: 'a red fox', width: 64, height: 128, num_inference_steps: 4 },
      }),
    });
    const prediction = (await res.json()) as { id: string; status: string; urls: { web: string } };
    expect(prediction.status).toBe('succeeded');
    expect(prediction.urls.web).toBe(`${h.stack.edgeUrl}/?prediction=${prediction.id}`);
    const page = await browser.newPage();
    await page.goto(prediction.urls.web);
    expect(await page.textContent('#status')).toContain(prediction.id);
    await page.fill('#key', h.stack.apiKey);
    await page.dispatchEvent('#key', 'change');
    await page.waitForFunction(
      () => {
        const img = document.getElementById('image') as HTMLImageElement | null;
        return img?.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 30_000 },
    );
    const size = await page.$eval('#image', (img) => ({
      w: (img as HTMLImageElement).naturalWidth,
      h: (img as HTMLImageElement).naturalHeight,
    }));
    expect(size).toEqual({ w: 64, h: 128 });
    expect(await page.textContent('#status')).toBe(`succeeded: ${prediction.id}`);
  });

  it('generates from a dropped input image and a mask painted with the brush (inpainting at the chosen strength)', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    let sent: { input: Record<string, unknown> } | undefined;
    page.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/predictions')
        sent = JSON.parse(req.postData() ?? '{}') as typeof sent;
    });
    await page.goto(`${h.stack.edgeUrl}/`);
    await page.fill('#key', h.stack.apiKey);
    await page.fill('#width', '64');
    await page.fill('#height', '64');
    await page.fill('#steps', '8');
    await page.fill('#seed', '5');
    // drop a 96×64 PNG on the drop zone, as a file dragged from the desktop arrives
    const raw = Buffer.alloc(96 * 64 * 3);
    for (let i = 0; i < 96 * 64; i++) raw.set([i % 96, 80, 160], i * 3);
    const pngBytes = await sharp(raw, { raw: { width: 96, height: 64, channels: 3 } })
      .png()
      .toBuffer();
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, pngBytes.toString('base64'));
    await page.waitForSelector('#canvases:not([hidden])');
    expect(await page.textContent('#drop-label')).toContain('96×64');
    await page.fill('#strength', '0.5');
    // paint a stroke over the left part of the image
    const box = (await page.locator('#mask').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.7, { steps: 5 });
    await page.mouse.up();
    await page.click('#generate');
    await page.waitForFunction(
      () => {
        const img = document.getElementById('image') as HTMLImageElement | null;
        return img?.complete && img.naturalWidth > 0;
      },
      undefined,
      { timeout: 90_000 },
    );
    expect(await page.textContent('#status')).toMatch(/^succeeded/);
    // 8 steps at strength 0.5 run 4, DeepCache interval 3 (the form's default): 2 full, 2 shallow
    expect(await page.textContent('#timings')).toContain('U-Net steps: 2 full, 2 shallow');
    expect(sent?.input.prompt_strength).toBe(0.5);
    expect(String(sent?.input.image)).toMatch(/^data:image\/png;base64,/);
    const maskPng = Buffer.from(String(sent?.input.mask).split(',')[1]!, 'base64');
    const { data, info } = await sharp(maskPng).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([96, 64]);
    const white = [...data].filter((v) => v > 200).length;
    expect(white).toBeGreaterThan(20);
    expect(white).toBeLessThan((96 * 64) / 2);
    expect(errors).toEqual([]);
  });

  it('shows the problem detail when the API refuses the request', async () => {
    const page = await browser.newPage();
    await page.goto(`${h.stack.edgeUrl}/`);
    await page.fill('#key', h.stack.apiKey);
    await page.fill('#steps', '500');
    // The browser's own range check would stop the submit; the API's answer is what is tested.
    await page.$eval('#form', (f) => f.setAttribute('novalidate', ''));
    await page.click('#generate');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('/input/num_inference_steps');
  });
});
