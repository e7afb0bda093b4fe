/**
 * @module
 * Request id: keeps a well-formed incoming `x-request-id` or mints one, exposes it as `c.var.requestId` and
 * echoes it on every response (errors included).
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app-env.js';
import { randomToken } from '../../ids.js';

export interface RequestIdOptions {
  /** Header to read and write. Default `x-request-id`. */
  headerName?: string;
}

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** Middleware that assigns every request an id. */
export const requestId = (options: RequestIdOptions = {}): MiddlewareHandler<AppEnv> => {
  const headerName = options.headerName ?? 'x-request-id';
  return async function requestId(c, next) {
    const incoming = c.req.header(headerName);
    const id = incoming !== undefined && WELL_FORMED.test(incoming) ? incoming : `req_${randomToken(20)}`;
    c.set('requestId', id);
    await next();
    c.res.headers.set(headerName, id);
  };
};
