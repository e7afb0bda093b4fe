/**
 * `GET /v1/account`: the caller's account, balance (sum of the ledger) and credits held, usage today and this
 * month (whole account, this key, every key).
 * @module
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { accountBalance, dayStart, monthStart, usageByKey, usageSince, type AccountRow } from '../accounts/queries.js';
import type { AppEnv } from '../app-env.js';
import { meterOf } from '../billing/account-meter.js';
import { ApiError } from '../errors/api-error.js';
import { AccountWithUsageSchema, problemResponse, rateLimitedResponse } from '../schemas/components.js';

export const getAccountRoute = createRoute({
  method: 'get',
  path: '/v1/account',
  tags: ['account'],
  summary: 'The caller’s account, balance and usage',
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: 'The account', content: { 'application/json': { schema: AccountWithUsageSchema } } },
    401: problemResponse('Missing, invalid or revoked API key'),
    429: rateLimitedResponse(),
    500: problemResponse('Internal error'),
  },
});

/** Sub-app with the account route. */
export const accountRoutes = new OpenAPIHono<AppEnv>().openapi(getAccountRoute, async (c) => {
  const { accountId, keyId } = c.get('caller');
  const account = await c.env.DB.prepare('SELECT id, name, created_at FROM accounts WHERE id = ?').bind(accountId).first<AccountRow>();
  if (!account) throw new ApiError(500, 'internal-error', 'The key belongs to no account');
  const since = monthStart();
  // The snapshot flushes the meter's pending ledger rows first, so the ledger sum below is current.
  const snapshot = await meterOf(c.env, accountId).snapshot(accountId);
  const [balance, today, all, mine, byKey] = await Promise.all([
    accountBalance(c.env.DB, accountId),
    usageSince(c.env.DB, accountId, dayStart()),
    usageSince(c.env.DB, accountId, since),
    usageSince(c.env.DB, accountId, since, keyId),
    usageByKey(c.env.DB, accountId, since),
  ]);
  return c.json(
    {
      ...account,
      key_id: keyId,
      balance: { credits: balance, reserved: snapshot.reserved },
      usage: { today, this_month: all, this_key_this_month: mine, by_key_this_month: byKey },
    },
    200,
  );
});
