/**
 * Problem responses (RFC 9457, `application/problem+json`) from the shared problem contract.
 * @module
 */
import { problem, type FieldError, type Problem, type ProblemCode } from '../problem.js';

/** The media type of problem documents. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemOptions {
  /** The request's id (`request_id` member). */
  requestId?: string | undefined;
  /** The request path the problem is about (`instance` member). */
  instance?: string | undefined;
  /** Field-level errors (JSON Pointers into the request). */
  errors?: readonly FieldError[] | undefined;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  headers?: HeadersInit | undefined;
}

/** The problem document for a code, with the optional members that were given. */
export function problemDocument(code: ProblemCode, status: number, detail: string, options: ProblemOptions = {}): Problem {
  return problem(code, status, detail, {
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    ...(options.requestId ? { request_id: options.requestId } : {}),
    ...(options.errors === undefined ? {} : { errors: [...options.errors] }),
  });
}

/** Renders a problem document as a response with its status and `application/problem+json`. */
export function renderProblem(body: Problem, headersInit?: HeadersInit): Response {
  const headers = new Headers(headersInit);
  headers.set('content-type', PROBLEM_CONTENT_TYPE);
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** A problem+json response for a code. */
export function problemResponse(code: ProblemCode, status: number, detail: string, options: ProblemOptions = {}): Response {
  return renderProblem(problemDocument(code, status, detail, options), options.headers);
}
