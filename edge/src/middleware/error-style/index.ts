/**
 * @module
 * Error style: marks the routes below it so `onError` and the validation hook answer in OpenAI's
 * `{error:{message,type,param,code}}` shape instead of problem+json.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv, ErrorStyle } from '../../app-env.js';

/** Middleware that sets `c.var.errorStyle` for the rest of the request. */
export const errorStyle = (style: ErrorStyle): MiddlewareHandler<AppEnv> => {
  return async function errorStyle(c, next) {
    c.set('errorStyle', style);
    await next();
  };
};
