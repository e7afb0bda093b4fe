/**
 * Admin routes for billing and limits (behind ADMIN_TOKEN): per-account rate limits, the ledger consistency
 * check, and re-enabling a webhook endpoint that a 410 disabled.
 * @module
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireAccount } from '../accounts/queries.js';
import type { AppEnv } from '../app-env.js';
import { meterOf } from '../billing/account-meter.js';
import { checkLedger } from '../billing/credits.js';
import { RateLimits } from '../billing/rpc.js';
import { defaultHook } from '../errors/default-hook.js';
import { AccountId } from '../ids.js';
import { enableEndpoint } from '../webhooks/endpoints.js';
import { problemResponse } from '../schemas/components.js';

const security = [{ adminAuth: [] }];
const tags = ['admin'];
const AccountParam = z.object({ account_id: AccountId });
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } }) as const;
const common = {
  400: problemResponse('Malformed account id'),
  401: problemResponse('Admin token missing or invalid'),
  404: problemResponse('No such account'),
};

export const RateLimitsSchema = RateLimits.openapi('RateLimits');
const AccountLimitsSchema = z
  .object({ account_id: z.string(), limits: RateLimitsSchema, source: z.enum(['account', 'default']) })
  .openapi('AccountLimits');
const LedgerCheckSchema = z
  .object({
    consistent: z.boolean(),
    durable_object: z.object({ balance: z.number().int(), reserved: z.number().int(), pending_ledger_rows: z.number().int() }),
    ledger: z.object({
      balance: z.number().int(),
      reserved: z.number().int(),
      committed: z.number().int(),
      released: z.number().int(),
      outstanding: z.number().int(),
    }),
  })
  .openapi('LedgerCheck');

export const getLimitsRoute = createRoute({
  method: 'get',
  path: '/admin/accounts/{account_id}/limits',
  tags,
  security,
  summary: "The account's per-key rate limits",
  request: { params: AccountParam },
  responses: { 200: { description: 'Limits in force', content: json(AccountLimitsSchema) }, ...common },
});

export const setLimitsRoute = createRoute({
  method: 'put',
  path: '/admin/accounts/{account_id}/limits',
  tags,
  security,
  summary: "Set the account's per-key rate limits (DELETE restores the configured defaults)",
  request: { params: AccountParam, body: { required: true, content: json(RateLimitsSchema) } },
  responses: { 200: { description: 'Limits in force', content: json(AccountLimitsSchema) }, ...common, 422: problemResponse('Bad limits') },
});

export const resetLimitsRoute = createRoute({
  method: 'delete',
  path: '/admin/accounts/{account_id}/limits',
  tags,
  security,
  summary: 'Back to the configured default limits',
  request: { params: AccountParam },
  responses: { 200: { description: 'Limits in force', content: json(AccountLimitsSchema) }, ...common },
});

export const ledgerCheckRoute = createRoute({
  method: 'get',
  path: '/admin/accounts/{account_id}/ledger/check',
  tags,
  security,
  summary: "Consistency check: the account meter's balance and holds against the D1 ledger",
  request: { params: AccountParam },
  responses: { 200: { description: 'Both sides and the verdict', content: json(LedgerCheckSchema) }, ...common },
});

export const enableWebhookRoute = createRoute({
  method: 'post',
  path: '/admin/accounts/{account_id}/webhooks/enable',
  tags,
  security,
  summary: 'Re-enable a webhook endpoint that answered 410 Gone',
  request: { params: AccountParam, body: { required: true, content: json(z.strictObject({ url: z.url() })) } },
  responses: {
    200: { description: 'Whether it was disabled', content: json(z.object({ url: z.string(), was_disabled: z.boolean() })) },
    ...common,
    422: problemResponse('Bad URL'),
  },
});

/** Sub-app with the billing admin routes (mount behind `adminAuth`). */
export const adminBillingRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(getLimitsRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const snapshot = await meterOf(c.env, account.id).snapshot(account.id);
    return c.json({ account_id: account.id, limits: snapshot.limits, source: snapshot.limitsSource }, 200);
  })
  .openapi(setLimitsRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const snapshot = await meterOf(c.env, account.id).setLimits({ accountId: account.id, limits: c.req.valid('json') });
    return c.json({ account_id: account.id, limits: snapshot.limits, source: snapshot.limitsSource }, 200);
  })
  .openapi(resetLimitsRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const snapshot = await meterOf(c.env, account.id).setLimits({ accountId: account.id, limits: null });
    return c.json({ account_id: account.id, limits: snapshot.limits, source: snapshot.limitsSource }, 200);
  })
  .openapi(ledgerCheckRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    return c.json(await checkLedger(c.env, account.id), 200);
  })
  .openapi(enableWebhookRoute, async (c) => {
    const account = await requireAccount(c.env.DB, c.req.valid('param').account_id);
    const { url } = c.req.valid('json');
    return c.json({ url, was_disabled: await enableEndpoint(c.env.DB, account.id, url) }, 200);
  });
