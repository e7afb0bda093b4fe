/**
 * The one error type for "stop and answer with this status" (the role Hono gives `HTTPException`).
 * @module
 */
import type { FieldError, ProblemCode } from '../../../shared/problem.js';

export interface ApiErrorOptions {
  /** Field-level errors (JSON Pointers into the request). */
  errors?: FieldError[];
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error the API answers deliberately, rendered by `onError` as `application/problem+json`.
 * @example throw new ApiError(404, 'not-found', 'No prediction with this id')
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ProblemCode, detail: string, options: ApiErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}
