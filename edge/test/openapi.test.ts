import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call } from './helpers.js';

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document (checked by @apidevtools/swagger-parser)', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<Record<string, unknown>>();
    const verdict = await fetch(`${env.TEST_OPENAPI_VALIDATOR}/validate`, { method: 'POST', body: JSON.stringify(doc) });
    expect(await verdict.json()).toEqual({ valid: true });
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every public route with its error statuses and names shared components', async () => {
    const doc = await (await call('/openapi.json')).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/predictions',
        '/v1/predictions/{id}',
        '/v1/predictions/{id}/cancel',
        '/v1/predictions/{id}/events',
        '/v1/images/generations',
        '/v1/images/edits',
        '/v1/models',
        '/v1/account',
        '/admin/accounts',
        '/admin/keys/{key_id}/revoke',
        '/internal/predictions/{id}/events',
        '/v1/webhooks/secret',
        '/v1/predictions/{id}/webhooks',
        '/v1/predictions/{id}/webhooks/{delivery_id}/replay',
        '/admin/accounts/{account_id}/limits',
        '/admin/accounts/{account_id}/ledger/check',
        '/admin/accounts/{account_id}/webhooks/enable',
        '/internal/fleet/lease',
        '/internal/fleet/heartbeat',
        '/internal/fleet/release',
        '/internal/fleet/backlog',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/predictions']?.post?.responses ?? {})).toEqual([
      '201',
      '202',
      '400',
      '401',
      '402',
      '409',
      '413',
      '422',
      '429',
      '500',
      '503',
    ]);
    expect(Object.keys(doc.paths['/v1/images/generations']?.post?.responses ?? {})).toEqual([
      '200',
      '400',
      '401',
      '402',
      '409',
      '413',
      '422',
      '429',
      '500',
      '503',
    ]);
    // Every public route can answer 429 (per-key rate limit).
    for (const [path, methods] of Object.entries(doc.paths).filter(([p]) => p.startsWith('/v1/'))) {
      for (const [method, op] of Object.entries(methods)) expect(Object.keys(op.responses), `${method} ${path}`).toContain('429');
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'Prediction',
        'Problem',
        'CreatePredictionRequest',
        'ImageGenerationRequest',
        'OpenAIError',
        'BackendEvent',
        'WebhookDelivery',
        'WebhookSecret',
        'RateLimits',
        'LedgerCheck',
        'LeaseRequest',
        'LeaseResponse',
        'HeartbeatRequest',
        'HeartbeatResponse',
        'ReleaseRequest',
        'ReleaseResponse',
        'BacklogReport',
      ]),
    );
    // The signed fleet routes answer 422 for a bad body; the backlog is read with its own bearer token.
    for (const path of ['/internal/fleet/lease', '/internal/fleet/heartbeat', '/internal/fleet/release']) {
      expect(Object.keys(doc.paths[path]?.post?.responses ?? {}), path).toEqual(['200', '400', '401', '422']);
    }
    expect(Object.keys(doc.paths['/internal/fleet/backlog']?.get?.responses ?? {})).toEqual(['200', '401']);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerAuth', 'adminAuth', 'fleetMetricsAuth', 'internalSignature']);
  });
});

describe('GET /docs', () => {
  it('serves a self-contained HTML reference without external resources', async () => {
    const res = await call('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('/v1/predictions/{id}/cancel');
    expect(html).toContain('id="schema-Prediction"');
    expect(html).not.toMatch(/<script|src="https?:|href="https?:/);
  });
});

describe('the OpenAPI validator service', () => {
  it('rejects a broken document (so the check above can fail)', async () => {
    const broken = {
      openapi: '3.1.0',
      info: { title: 'x' },
      paths: { '/a': { get: { responses: { 200: { $ref: '#/components/responses/missing' } } } } },
    };
    const verdict = await (await fetch(`${env.TEST_OPENAPI_VALIDATOR}/validate`, { method: 'POST', body: JSON.stringify(broken) })).json<{
      valid: boolean;
    }>();
    expect(verdict.valid).toBe(false);
  });
});
