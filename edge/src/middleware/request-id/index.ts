/**
 * @module
 * Request id: the shared rule of both services (`shared/http/request-id.ts`): keeps a well-formed incoming
 * `x-request-id` or mints one, exposes it as `c.var.requestId` and echoes it on every response (errors included).
 */
export { requestId } from '../../../../shared/http/request-id.js';
