/**
 * The app's one validation hook: zod issues → a problem with `errors: [{pointer, message}]`.
 * Body issues answer 422 (well-formed JSON that breaks a rule); path, query and header issues answer 400.
 * On OpenAI-style routes every validation failure is a 400, as OpenAI answers.
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

type Issue = z.core.$ZodIssue;

/** A union branch that failed only because the value has another type did not "almost match". */
function typeMismatchOnly(issues: readonly Issue[]): boolean {
  return issues.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ pointer: pointerOf([...path, key]), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_union') {
      // Report inside the one branch the value was meant for (e.g. the settings object, not `false`).
      const candidates = issue.errors.filter((branch) => !typeMismatchOnly(branch));
      if (candidates.length === 1 && candidates[0]) return flatten(candidates[0], path);
    }
    return [{ pointer: pointerOf(path), message: issue.message }];
  });
}

/** Flattens zod issues to field errors (unknown keys get one entry each; unions report the intended branch). */
export function fieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return flatten(error.issues, prefix);
}

type HookResult = { target: string } & ({ success: true; data: unknown } | { success: false; error: z.ZodError });

/** `defaultHook` for OpenAPIHono: throws an ApiError that `onError` renders. */
export function defaultHook(result: HookResult, c: Context<AppEnv>): undefined {
  if (result.success) return undefined;
  const inBody = result.target === 'json';
  const status = inBody && c.get('errorStyle') !== 'openai' ? 422 : 400;
  throw new ApiError(status, 'validation-failed', inBody ? 'The request body failed validation' : `Invalid ${result.target} parameters`, {
    errors: fieldErrors(result.error, inBody ? [] : [result.target]),
  });
}
