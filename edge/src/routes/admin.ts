/**
 * Admin routes (behind ADMIN_TOKEN): accounts, API keys (created, listed, revoked) and credit top-ups.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { accountBalance, requireAccount, type AccountRow } from '../accounts/queries.js';
import type { AppEnv } from '../app-env.js';
import { newApiKey } from '../auth/keys.js';
import { meterOf } from '../billing/account-meter.js';
import { ApiError } from '../errors/api-error.js';
import { parseIdempotencyKey } from '../middleware/idempotency/index.js';
import { defaultHook } from '../errors/default-hook.js';
import { AccountId, newAccountId } from '../ids.js';
import { AccountSchema, ApiKeyInfoSchema, CreatedApiKeySchema, problemResponse } from '../schemas/components.js';

const security = [{ adminAuth: [] }];
const tags = ['admin'];
const AccountParam = z.object({ account_id: AccountId });
const KeyParam = z.object({ key_id: z.string().regex(/^[a-z0-9]{12}$/) });
const unauthorized = problemResponse('Admin token missing or invalid');
const invalid = problemResponse('The request failed validation');
const noAccount = problemResponse('No such account');
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } }) as const;

interface KeyRow {
  id: string;
  account_id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export const createAccountRoute = createRoute({
  method: 'post',
  path: '/admin/accounts',
  tags,
  security,
  summary: 'Create an account',
  request: { body: { required: true, content: json(z.strictObject({ name: z.string().min(1).max(200) })) } },
  responses: { 201: { description: 'Created', content: json(AccountSchema) }, 400: invalid, 401: unauthorized, 422: invalid },
});

export const listAccountsRoute = createRoute({
  method: 'get',
  path: '/admin/accounts',
  tags,
  security,
  summary: 'List accounts',
  responses: { 200: { description: 'Accounts', content: json(z.object({ data: z.array(AccountSchema) })) }, 401: unauthorized },
});

export const createKeyRoute = createRoute({
  method: 'post',
  path: '/admin/accounts/{account_id}/keys',
  tags,
  security,
  summary: 'Create an API key (the key is shown once)',
  request: { params: AccountParam, body: { required: true, content: json(z.strictObject({ name: z.string().min(1).max(200) })) } },
  responses: {
    201: { description: 'Created', content: json(CreatedApiKeySchema) },
    400: invalid,
    401: unauthorized,
    404: noAccount,
    422: invalid,
  },
});

export const listKeysRoute = createRoute({
  method: 'get',
  path: '/admin/accounts/{account_id}/keys',
  tags,
  security,
  summary: "List an account's keys (never the keys themselves)",
  request: { params: AccountParam },
  responses: {
    200: { description: 'Keys', content: json(z.object({ data: z.array(ApiKeyInfoSchema) })) },
    400: invalid,
    401: unauthorized,
    404: noAccount,
  },
});

export const revokeKeyRoute = createRoute({
  method: 'post',
  path: '/admin/keys/{key_id}/revoke',
  tags,
  security,
  summary: 'Revoke an API key (idempotent)',
  request: { params: KeyParam },
  responses: {
    200: { description: 'The revoked key', content: json(ApiKeyInfoSchema) },
    400: invalid,
    401: unauthorized,
    404: problemResponse('No such key'),
  },
});

export const topUpRoute = createRoute({
  method: 'post',
  path: '/admin/accounts/{account_id}/credits',
  tags,
  security,
  summary: 'Top up credits (appends a ledger row)',
  description:
    'With `Idempotency-Key` the top-up is applied once per key and account: a retry answers 201 with `Idempotent-Replayed: true` and adds nothing; the key with another amount or note answers 422 `idempotency-key-mismatch`.',
  request: {
    params: AccountParam,
    headers: z.object({ 'idempotency-key': z.string().max(300).optional() }),
    body: {
      required: true,
      content: json(z.strictObject({ credits: z.number().int().min(1).max(1_000_000_000), note: z.string().max(500).optional() })),
    },
  },
  responses: {
    201: { description: 'The account with its new balance', content: json(AccountSchema) },
    400: invalid,
    401: unauthorized,
    404: noAccount,
    422: problemResponse('Invalid body, or the Idempotency-Key was used with another amount or note'),
  },
});

/** Sub-app with the admin routes (mount behind `adminAuth`). */
export const adminRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(createAccountRoute, async (c) => {
    const account: AccountRow = { id: newAccountId(), name: c.req.valid('json').name, created_at: new Date().toISOString() };
    await c.env.DB.prepare('INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)')
      .bind(account.id, account.name, account.created_at)
      .run();
    return c.json({ ...account, balance: { credits: 0 } }, 201);
  })
  .openapi(listAccountsRoute, async (c) => {
    const { results } = await c.env.DB.prepare(
      'SELECT a.id, a.name, a.created_at, COALESCE((SELECT SUM(credits) FROM credit_ledger l WHERE l.account_id = a.id), 0) AS balance FROM accounts a ORDER BY a.created_at',
    ).all<AccountRow & { balance: number }>();
    return c.json({ data: results.map(({ balance, ...a }) => ({ ...a, balance: { credits: balance } })) }, 200);
  })
  .openapi(createKeyRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const { id, key, hash } = await newApiKey();
    const row: KeyRow = {
      id,
      account_id: account.id,
      name: c.req.valid('json').name,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await c.env.DB.prepare('INSERT INTO api_keys (id, account_id, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .bind(id, account.id, row.name, hash, row.created_at)
      .run();
    return c.json({ ...row, key }, 201);
  })
  .openapi(listKeysRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const { results } = await c.env.DB.prepare(
      'SELECT id, account_id, name, created_at, revoked_at FROM api_keys WHERE account_id = ? ORDER BY created_at',
    )
      .bind(account.id)
      .all<KeyRow>();
    return c.json({ data: results }, 200);
  })
  .openapi(revokeKeyRoute, async (c) => {
    const row = await c.env.DB.prepare(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING id, account_id, name, created_at, revoked_at',
    )
      .bind(new Date().toISOString(), c.req.valid('param').key_id)
      .first<KeyRow>();
    if (!row) throw new ApiError(404, 'not-found', 'No such key');
    return c.json(row, 200);
  })
  .openapi(topUpRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const { credits, note } = c.req.valid('json');
    const header = c.req.valid('header')['idempotency-key'];
    const idempotencyKey = header === undefined ? undefined : parseIdempotencyKey(header);
    // Through the account's meter, which appends the ledger row and keeps its balance equal to the ledger's.
    const result = await meterOf(c.env, account.id).topUp({
      accountId: account.id,
      credits,
      note: note ?? null,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    if (result.outcome === 'mismatch')
      throw new ApiError(422, 'idempotency-key-mismatch', 'This Idempotency-Key was used for a top-up with another amount or note');
    const headers: Record<string, string> = result.outcome === 'replayed' ? { 'idempotent-replayed': 'true' } : {};
    return c.json({ ...account, balance: { credits: await accountBalance(c.env.DB, account.id) } }, 201, headers);
  });
