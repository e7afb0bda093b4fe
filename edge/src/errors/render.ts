/**
 * Renders an `ApiError` in the route's error style: RFC 9457 problem+json, or OpenAI's error shape.
 * @module
 */
import type { Context } from 'hono';
import { problemDocument, renderProblem } from '../../../shared/http/problem-response.js';
import type { ProblemCode } from '../../../shared/problem.js';
import type { OpenAIError } from '../schemas/openai.js';
import type { AppEnv } from '../app-env.js';
import type { ApiError } from './api-error.js';

/** OpenAI `error.type` for each problem code. */
const openAITypes: Partial<Record<ProblemCode, string>> & { default: string } = {
  'validation-failed': 'invalid_request_error',
  'malformed-request': 'invalid_request_error',
  'payload-too-large': 'invalid_request_error',
  'unsupported-media-type': 'invalid_request_error',
  'not-found': 'invalid_request_error',
  'idempotency-key-in-use': 'invalid_request_error',
  'idempotency-key-mismatch': 'invalid_request_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  'rate-limited': 'rate_limit_error',
  'insufficient-credits': 'insufficient_quota',
  'quota-exceeded': 'insufficient_quota',
  default: 'server_error',
};

/** OpenAI error body for an ApiError (`param` is the first field's pointer, without the leading slash). */
export function toOpenAIError(err: ApiError): OpenAIError {
  const first = err.errors?.[0];
  const message = first ? `${err.detail}: ${first.pointer} ${first.message}` : err.detail;
  return {
    error: {
      message,
      type: openAITypes[err.code] ?? openAITypes.default,
      param: first ? first.pointer.replace(/^\//, '').replaceAll('/', '.') : null,
      code: err.code,
    },
  };
}

/** The response for an ApiError on this request. */
export function renderApiError(c: Context<AppEnv>, err: ApiError): Response {
  if (c.get('errorStyle') === 'openai') {
    const headers = new Headers(err.headers);
    headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(toOpenAIError(err)), { status: err.status, headers });
  }
  const body = problemDocument(err.code, err.status, err.detail, {
    instance: new URL(c.req.url).pathname,
    requestId: c.get('requestId'),
    errors: err.errors,
  });
  return renderProblem(body, err.headers);
}
