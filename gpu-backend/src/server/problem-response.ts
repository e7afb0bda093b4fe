/**
 * RFC 9457 problem responses for the backend's HTTP API (`application/problem+json`).
 * @module
 */
import { problem, type FieldError, type ProblemCode } from '../../../shared/problem.js';

/** A problem+json response; extra headers (e.g. Retry-After) are added as given. */
export function problemResponse(
  code: ProblemCode,
  status: number,
  detail: string,
  options: { requestId?: string; errors?: FieldError[]; headers?: Record<string, string> } = {},
): Response {
  const body = problem(code, status, detail, {
    ...(options.requestId === undefined ? {} : { request_id: options.requestId }),
    ...(options.errors === undefined ? {} : { errors: options.errors }),
  });
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...options.headers },
  });
}
