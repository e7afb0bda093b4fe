/**
 * Request ids, one rule for both services: a well-formed incoming `x-request-id` is kept, anything else is
 * replaced by a fresh `req_…` id; the id is exposed as `c.var.requestId` (Hono's `hono/request-id`) and echoed
 * on every response, error responses included.
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import { requestId as honoRequestId, type RequestIdVariables } from 'hono/request-id';
import { randomToken } from '../random-token.js';

/** The header a request id is read from and written to. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Well-formed request ids: 8–128 letters, digits, `.`, `_`, `:` or `-` (fits UUIDs and trace ids). */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** True for a request id a client may choose. */
export function isWellFormedRequestId(value: string): boolean {
  return WELL_FORMED_REQUEST_ID.test(value);
}

/** A fresh request id: `req_` + 20 random letters and digits. */
export function newRequestId(): string {
  return `req_${randomToken(20)}`;
}

/** Middleware that gives every request an id (see the module comment). */
export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  // Hono's own header check is looser than the rule above, so the header is read here, in the generator.
  const assign = honoRequestId({
    headerName: '',
    generator: (c) => {
      const given = c.req.header(REQUEST_ID_HEADER);
      return given !== undefined && isWellFormedRequestId(given) ? given : newRequestId();
    },
  });
  return async function requestId(c, next) {
    await assign(c, next);
    // Set after the handler ran, so the id is on every response (also those built by `onError`).
    c.res.headers.set(REQUEST_ID_HEADER, c.var.requestId);
  };
}
