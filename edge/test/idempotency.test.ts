import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import worker from '../src/index.js';
import { createApp } from '../src/app.js';
import { statusListeners } from '../src/index.js';
import { auth, call, createBody, jsonInit, newCustomer, runToSuccess, waitForJob } from './helpers.js';
import { TEST_ORIGIN } from './constants.js';

async function create(key: string, idem: string, body: unknown = createBody(), headers: Record<string, string> = {}): Promise<Response> {
  return call('/v1/predictions', jsonInit('POST', body, key, { 'idempotency-key': idem, ...headers }));
}

async function ledgerRows(accountId: string): Promise<number> {
  return (
    (
      await env.DB.prepare("SELECT COUNT(*) AS n FROM credit_ledger WHERE account_id = ? AND kind = 'reserve'")
        .bind(accountId)
        .first<{ n: number }>()
    )?.n ?? -1
  );
}

describe('Idempotency-Key on POST /v1/predictions', () => {
  it('replays the stored response for a retry after completion: same prediction, no second charge', async () => {
    const { accountId, key } = await newCustomer('idem');
    const first = await create(key, '"order-1"');
    expect(first.status).toBe(202);
    const original = await first.json<Prediction>();
    const again = await create(key, '"order-1"');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe(original.urls.get);
    expect(await again.json<Prediction>()).toEqual(original);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await ledgerRows(accountId)).toBe(1);
    await waitForJob(original.id);
  });

  it('returns 422 idempotency-key-mismatch when the key is reused with another body', async () => {
    const { key } = await newCustomer('idem');
    const first = await create(key, 'k-mismatch');
    const res = await create(key, 'k-mismatch', createBody({ prompt: 'something else' }));
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'idempotency-key-mismatch' });
    await waitForJob((await first.json<Prediction>()).id);
  });

  it('returns 409 idempotency-key-in-use while the first request is still in flight', async () => {
    const { accountId, key } = await newCustomer('idem');
    // The first request parks on Prefer: wait; the retry arrives meanwhile.
    const pending = create(key, 'k-flight', createBody(), { prefer: 'wait=2' });
    let conflict: Response | undefined;
    for (let i = 0; i < 100 && conflict === undefined; i++) {
      const row = await env.DB.prepare("SELECT state FROM idempotency_keys WHERE account_id = ? AND idem_key = 'k-flight'")
        .bind(accountId)
        .first<{ state: string }>();
      if (row?.state === 'in-flight') conflict = await create(key, 'k-flight');
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(conflict?.status).toBe(409);
    expect(conflict?.headers.get('retry-after')).toBe('1');
    expect(await conflict?.json()).toMatchObject({ code: 'idempotency-key-in-use' });
    const first = await pending;
    expect(first.status).toBe(202);
    expect((await create(key, 'k-flight')).headers.get('idempotent-replayed')).toBe('true');
    expect(await ledgerRows(accountId)).toBe(1);
  });

  it('scopes keys per account', async () => {
    const a = await newCustomer('idem-a');
    const b = await newCustomer('idem-b');
    const ra = await (await create(a.key, 'shared-key')).json<Prediction>();
    const rb = await create(b.key, 'shared-key');
    expect(rb.headers.get('idempotent-replayed')).toBeNull();
    expect((await rb.json<Prediction>()).id).not.toBe(ra.id);
  });

  it('does not store an error: a key whose request got 402 is processed anew after a top-up', async () => {
    const { accountId, key } = await newCustomer('idem-poor', 0);
    expect((await create(key, 'k-402')).status).toBe(402);
    await call(`/admin/accounts/${accountId}/credits`, jsonInit('POST', { credits: 10_000 }, env.ADMIN_TOKEN));
    const res = await create(key, 'k-402');
    expect(res.status).toBe(202);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    await waitForJob((await res.json<Prediction>()).id);
  });

  it.each([
    ['empty', '""'],
    ['too long', 'x'.repeat(256)],
    ['not ASCII', 'clé'],
  ])('returns 400 problem for an %s key', async (_, value) => {
    const { key } = await newCustomer('idem');
    const res = await call('/v1/predictions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': value },
      body: JSON.stringify(createBody()),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: [{ pointer: '/headers/idempotency-key' }] });
  });

  it('forgets keys after 24 h: the scheduled cleanup deletes expired records', async () => {
    const { accountId, key } = await newCustomer('idem-expiry');
    const first = await (await create(key, 'k-expiring')).json<Prediction>();
    await env.DB.prepare("UPDATE idempotency_keys SET expires_at = ? WHERE account_id = ? AND idem_key = 'k-expiring'")
      .bind(new Date(Date.now() - 1000).toISOString(), accountId)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: new Date(), cron: '*/10 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await env.DB.prepare('SELECT COUNT(*) AS n FROM idempotency_keys WHERE account_id = ?')
      .bind(accountId)
      .first<{ n: number }>();
    expect(left?.n).toBe(0);
    const again = await create(key, 'k-expiring');
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect((await again.json<Prediction>()).id).not.toBe(first.id);
  });
});

describe('Idempotency-Key on the OpenAI route', () => {
  it('answers a key reused with another body in OpenAI’s error shape', async () => {
    const { accountId, key } = await newCustomer('idem-openai');
    const client = new OpenAI({
      apiKey: key,
      baseURL: `${TEST_ORIGIN}/v1`,
      maxRetries: 0,
      fetch: (input, init) => exports.default.fetch(new Request(input as RequestInfo, init as RequestInit)),
    });
    // A completed earlier request under this key, with another fingerprint.
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO idempotency_keys (account_id, idem_key, fingerprint, state, owner, locked_until, response_status, response_headers, response_body, created_at, expires_at) VALUES (?, 'openai-key-1', 'another-body', 'completed', 'o', ?, 200, '{}', '{}', ?, ?)",
    )
      .bind(accountId, new Date(now).toISOString(), new Date(now).toISOString(), new Date(now + 3_600_000).toISOString())
      .run();
    const err = await client.images
      .generate({ model: 'sd15-tiny-demo', prompt: 'x', size: '64x64', n: 1 }, { headers: { 'Idempotency-Key': 'openai-key-1' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const apiError = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(422);
    expect(apiError.error).toMatchObject({ code: 'idempotency-key-mismatch', type: 'invalid_request_error' });
  });
});

describe('Idempotency-Key once the prediction exists (faults after the charge)', () => {
  async function predictionsOf(accountId: string): Promise<string[]> {
    const { results } = await env.DB.prepare('SELECT id FROM predictions WHERE account_id = ? ORDER BY created_at')
      .bind(accountId)
      .all<{ id: string }>();
    return results.map((r) => r.id);
  }

  async function ledgerKinds(accountId: string): Promise<string[]> {
    const { results } = await env.DB.prepare(
      'SELECT kind FROM credit_ledger WHERE account_id = ? AND prediction_id IS NOT NULL ORDER BY id',
    )
      .bind(accountId)
      .all<{ kind: string }>();
    return results.map((r) => r.kind);
  }

  it('a retry after a request that died once the prediction was charged answers with that prediction', async () => {
    const { accountId, key } = await newCustomer('idem-died');
    const first = await (await create(key, 'k-died')).json<Prediction>();
    // As if the first request had died after the INSERT: in flight, no response, its lock run out.
    await env.DB.prepare(
      "UPDATE idempotency_keys SET state = 'in-flight', response_status = NULL, response_headers = NULL, response_body = NULL, locked_until = ? WHERE account_id = ? AND idem_key = 'k-died'",
    )
      .bind(new Date(Date.now() - 1000).toISOString(), accountId)
      .run();
    const retry = await create(key, 'k-died');
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await retry.json<Prediction>()).id).toBe(first.id);
    // The answer is the current state: after the prediction succeeded, a retry shows it succeeded.
    await runToSuccess(first.id);
    await env.DB.prepare(
      "UPDATE idempotency_keys SET state = 'completed', response_body = NULL WHERE account_id = ? AND idem_key = 'k-died'",
    )
      .bind(accountId)
      .run();
    const later = await create(key, 'k-died');
    expect(later.status).toBe(201);
    expect(await later.json<Prediction>()).toMatchObject({ id: first.id, status: 'succeeded' });
    expect(await predictionsOf(accountId)).toEqual([first.id]);
    expect(await ledgerKinds(accountId)).toEqual(['reserve', 'commit']);
  });

  it('an S3 failure in the b64_json path after the charge: retries answer with the same prediction, charged once', async () => {
    const { accountId, key } = await newCustomer('idem-b64-fault', 10_000);
    const app = createApp(statusListeners);
    const request = (s3Secret: string) => {
      const ctx = createExecutionContext();
      const res = app.request(
        `${TEST_ORIGIN}/v1/images/generations`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'k-b64' },
          body: JSON.stringify({ model: 'sd15-tiny-demo', prompt: 'fault', size: '64x64', response_format: 'b64_json' }),
        },
        // The fault: S3 refuses the edge's reads (a wrong secret), after the prediction was charged and finished.
        { ...env, S3_SECRET_ACCESS_KEY: s3Secret, OPENAI_WAIT_S: '30' } as Env,
        ctx,
      );
      return Promise.resolve(res).then(async (r) => (await waitOnExecutionContext(ctx), r));
    };
    const pending = request('not-the-secret');
    let id: string | undefined;
    for (let i = 0; i < 400 && id === undefined; i++) {
      [id] = await predictionsOf(accountId);
      if (id === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    await runToSuccess(id!);
    const failed = await pending;
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: { type: 'server_error' } });

    const stillFailing = await request('not-the-secret');
    expect(stillFailing.status).toBe(500);
    expect(stillFailing.headers.get('idempotent-replayed')).toBe('true');

    const healed = await request(env.S3_SECRET_ACCESS_KEY);
    expect(healed.status).toBe(200);
    expect(healed.headers.get('idempotent-replayed')).toBe('true');
    const { data } = await healed.json<{ data: Array<{ b64_json: string }> }>();
    expect(atob(data[0]!.b64_json).slice(1, 4)).toBe('PNG');

    expect(await predictionsOf(accountId)).toEqual([id]);
    expect(await ledgerKinds(accountId)).toEqual(['reserve', 'commit']);
    const account = await (await call('/v1/account', auth(key))).json<{ balance: { credits: number; reserved: number } }>();
    const cost = (await env.DB.prepare("SELECT amount FROM credit_ledger WHERE prediction_id = ? AND kind = 'commit'")
      .bind(id)
      .first<{ amount: number }>())!.amount;
    expect(account.balance).toEqual({ credits: 10_000 - cost, reserved: 0 });
  }, 90_000);
});
