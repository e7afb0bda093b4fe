/**
 * The app's one validation hook: zod issues → a problem with `errors: [{pointer, message}]`.
 * Body issues answer 422 (well-formed JSON that breaks a rule); path, query and header issues answer 400.
 * @module
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import type { FieldError } from '../../../shared/problem.js';
import type { AppEnv } from '../app-env.js';
import { ApiError } from './api-error.js';

/** RFC 6901 pointer for a zod issue path. */
export function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('') || '/';
}

/** Flattens zod issues to field errors (unknown keys get one entry each). */
export function fieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ pointer: pointerOf([...prefix, ...issue.path, key]), message: 'unknown field' }));
    }
    return [{ pointer: pointerOf([...prefix, ...issue.path]), message: issue.message }];
  });
}

type HookResult = { target: string } & ({ success: true; data: unknown } | { success: false; error: z.ZodError });

/** `defaultHook` for OpenAPIHono: throws an ApiError that `onError` renders. */
export function defaultHook(result: HookResult, _c: Context<AppEnv>): undefined {
  if (result.success) return undefined;
  const inBody = result.target === 'json';
  const prefix = inBody ? [] : [result.target];
  throw new ApiError(inBody ? 422 : 400, 'validation-failed', inBody ? 'The request body failed validation' : `Invalid ${result.target} parameters`, {
    errors: fieldErrors(result.error, prefix),
  });
}
