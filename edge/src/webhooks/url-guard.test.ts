import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { dohResolver } from './resolver.js';
import { checkWebhookUrl } from './url-guard.js';

// The loopback DNS-over-HTTPS server started by globalSetup (see test/servers/doh-server.ts for its zone).
const resolver = dohResolver(`${env.TEST_DOH_SERVER}/dns-query`);
const production = { allowLoopback: false, resolver };
const development = { allowLoopback: true, resolver };

describe('checkWebhookUrl', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0x7f.1/hook', 'loopback'],
    ['http://[::1]/hook', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['http://localhost/hook', 'loopback'],
    ['http://api.localhost./hook', 'loopback'],
    ['http://LOCALHOST:3000/hook', 'loopback'],
    ['http://10.0.0.1/hook', 'private'],
    ['http://[fe80::1]/hook', 'link-local'],
    ['https://linklocal6.evil.test/hook', 'link-local'],
    ['http://169.254.169.254/', 'metadata'],
    // IPv4-translated IPv6 (::ffff:0:a.b.c.d) is its embedded IPv4 address.
    ['https://[::ffff:0:127.0.0.1]/hook', 'loopback'],
    ['https://[::ffff:0:10.1.2.3]/hook', 'private'],
    ['https://[::ffff:0:a9fe:a9fe]/hook', 'metadata'],
  ])('refuses %s in production (%s)', async (url, cls) => {
    expect(await checkWebhookUrl(url, production)).toMatchObject({ ok: false, transient: false, class: cls });
  });

  it('allows loopback, and only loopback, with the development setting', async () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://[::1]/hook']) {
      expect(await checkWebhookUrl(url, development)).toEqual({ ok: true });
    }
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/', 'https://private.evil.test/hook']) {
      expect((await checkWebhookUrl(url, development)).ok).toBe(false);
    }
  });

  it('accepts a public name and refuses other schemes', async () => {
    expect(await checkWebhookUrl('https://public.hooks.test/hook', production)).toEqual({ ok: true });
    // Plain http only in development.
    expect(await checkWebhookUrl('http://public.hooks.test/hook', production)).toMatchObject({
      ok: false,
      transient: false,
      reason: 'webhooks must use https outside development',
    });
    expect(await checkWebhookUrl('http://public.hooks.test/hook', development)).toEqual({ ok: true });
    expect(await checkWebhookUrl('ftp://public.hooks.test/hook', production)).toMatchObject({ ok: false });
  });

  it('reports a resolver failure as transient', async () => {
    await fetch(`${env.TEST_DOH_SERVER}/_test/zone`, { method: 'POST', body: JSON.stringify({ name: 'servfail.hooks.test', fail: true }) });
    expect(await checkWebhookUrl('https://servfail.hooks.test/hook', production)).toMatchObject({ ok: false, transient: true });
  });
});
