/**
 * The app's one validation hook: zod issues → a problem with `errors: [{pointer, message}]` (the shared kit's
 * `fieldErrors`).
 * Body issues answer 422 (well-formed JSON that breaks a rule); path, query and header issues answer 400.
 * On OpenAI-style routes every validation failure is a 400, as OpenAI answers.
 * @module
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { fieldErrors } from '../../../shared/http/field-errors.js';
import type { AppEnv } from '../app-env.js';
import { ApiError } from './api-error.js';

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
