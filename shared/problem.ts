/**
 * RFC 9457 problem details: one schema, a closed set of codes, one stable `type` URI per code.
 * @module
 */
import { z } from 'zod';

/** Every error kind the API answers with. The `type` URI is derived from the code and never changes. */
export const ProblemCode = z.enum([
  'validation-failed',
  'malformed-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'payload-too-large',
  'unsupported-media-type',
  'conflict',
  'invalid-state-transition',
  'idempotency-key-in-use',
  'idempotency-key-mismatch',
  'insufficient-credits',
  'rate-limited',
  'quota-exceeded',
  'backend-unavailable',
  'queue-full',
  'internal-error',
]);
export type ProblemCode = z.infer<typeof ProblemCode>;

/** Human titles per code (RFC 9457 `title`: the same for every occurrence of a kind). */
export const problemTitles = {
  'validation-failed': 'The request failed validation',
  'malformed-request': 'The request body is not valid JSON',
  unauthorized: 'Missing or invalid credentials',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'payload-too-large': 'Request body too large',
  'unsupported-media-type': 'Unsupported media type',
  conflict: 'Conflict',
  'invalid-state-transition': 'The resource is not in a state that allows this',
  'idempotency-key-in-use': 'A request with this Idempotency-Key is still being processed',
  'idempotency-key-mismatch': 'This Idempotency-Key was used with a different request',
  'insufficient-credits': 'Not enough credits',
  'rate-limited': 'Too many requests',
  'quota-exceeded': 'Quota exceeded',
  'backend-unavailable': 'No backend is available',
  'queue-full': 'The backend queue is full',
  'internal-error': 'Internal error',
} as const satisfies Record<ProblemCode, string>;

/** The stable `type` URI of a problem code (a relative reference, resolved against the API origin). */
export function problemType(code: ProblemCode): string {
  return `/problems/${code}`;
}

/** One field-level validation error. `path` is a JSON Pointer into the request (RFC 6901). */
export const FieldError = z.object({
  pointer: z.string(),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldError>;

/** An RFC 9457 problem document as this API sends it (`application/problem+json`). */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: ProblemCode,
  request_id: z.string().optional(),
  errors: z.array(FieldError).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Builds a problem document for a code. */
export function problem(code: ProblemCode, status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  return { type: problemType(code), title: problemTitles[code], status, ...(detail === undefined ? {} : { detail }), code, ...extra };
}
