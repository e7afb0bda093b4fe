/**
 * zod issues → RFC 9457 field errors (`errors: [{ pointer, message }]`, JSON Pointers into the request).
 * @module
 */
import type { z } from 'zod';
import type { FieldError } from '../problem.js';
import { jsonPointer } from './json-pointer.js';

type Issue = z.core.$ZodIssue;

/** A union branch that failed only because the value has another type did not "almost match". */
function typeMismatchOnly(issues: readonly Issue[]): boolean {
  return issues.every((issue) => issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value'));
}

function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ pointer: jsonPointer([...path, key]), message: 'unknown field' }));
    }
    if (issue.code === 'invalid_union') {
      // Report inside the one branch the value was meant for (e.g. the settings object, not `false`).
      const candidates = issue.errors.filter((branch) => !typeMismatchOnly(branch));
      if (candidates.length === 1 && candidates[0]) return flatten(candidates[0], path);
    }
    return [{ pointer: jsonPointer(path), message: issue.message }];
  });
}

/**
 * Flattens zod issues to field errors: unknown keys get one entry each; a union reports inside the branch the
 * value was meant for.
 * @param prefix path of the validated value inside the request (e.g. `['input']`, or `['query']`)
 */
export function fieldErrors(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldError[] {
  return flatten(error.issues, prefix);
}
