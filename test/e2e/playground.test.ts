/// <reference lib="dom" />
/**
 * The playground in headless Chromium (Debian's `chromium`, driven by playwright-core) against the real local
 * stack: fill the form, generate, and see the image load.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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

    await page.waitForFunction(() => {
      const img = document.getElementById('image') as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 240_000 });
    const size = await page.$eval('#image', (img) => ({ w: (img as HTMLImageElement).naturalWidth, h: (img as HTMLImageElement).naturalHeight }));
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
      body: JSON.stringify({ model: 'deepcache/sd15-tiny-demo', input: { prompt: 'a red fox', width: 64, height: 128, num_inference_steps: 4 } }),
    });
    const prediction = (await res.json()) as { id: string; status: string; urls: { web: string } };
    expect(prediction.status).toBe('succeeded');
    expect(prediction.urls.web).toBe(`${h.stack.edgeUrl}/?prediction=${prediction.id}`);
    const page = await browser.newPage();
    await page.goto(prediction.urls.web);
    expect(await page.textContent('#status')).toContain(prediction.id);
    await page.fill('#key', h.stack.apiKey);
    await page.dispatchEvent('#key', 'change');
    await page.waitForFunction(() => {
      const img = document.getElementById('image') as HTMLImageElement | null;
      return img !== null && img.complete && img.naturalWidth > 0;
    }, undefined, { timeout: 30_000 });
    const size = await page.$eval('#image', (img) => ({ w: (img as HTMLImageElement).naturalWidth, h: (img as HTMLImageElement).naturalHeight }));
    expect(size).toEqual({ w: 64, h: 128 });
    expect(await page.textContent('#status')).toBe(`succeeded: ${prediction.id}`);
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
