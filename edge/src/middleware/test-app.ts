/**
 * A bare app for middleware tests: the real error handler and request id, plus the middleware under test.
 * @module
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.js';
import { onError } from '../errors/on-error.js';
import { requestId } from './request-id/index.js';

/** An app that runs `middleware` on `/*` and answers `ok` (or the caller's account) on every route. */
export function appWith(...middleware: MiddlewareHandler<AppEnv>[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestId());
  for (const m of middleware) app.use('*', m);
  app.all('*', async (c) =>
    c.json({ ok: true, caller: c.var.caller ?? null, style: c.var.errorStyle ?? null, length: (await c.req.text()).length }),
  );
  app.onError(onError);
  return app;
}
