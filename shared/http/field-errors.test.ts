import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fieldErrors } from './field-errors.js';
import { jsonPointer, ROOT_POINTER } from './json-pointer.js';

describe('jsonPointer', () => {
  it('is the empty string for the whole document (RFC 6901)', () => {
    expect(jsonPointer([])).toBe(ROOT_POINTER);
    expect(ROOT_POINTER).toBe('');
  });

  it('escapes ~ and / in reference tokens', () => {
    expect(jsonPointer(['input', 'a/b', 'c~d', 0])).toBe('/input/a~1b/c~0d/0');
  });
});

describe('fieldErrors', () => {
  const Body = z.strictObject({
    width: z.number().int(),
    deepcache: z.union([z.strictObject({ cache_interval: z.number().int().min(1) }), z.literal(false)]).optional(),
  });

  it('points at each failing field, under the prefix', () => {
    const result = Body.safeParse({ width: 1.5 });
    expect(result.success).toBe(false);
    expect(fieldErrors(result.error!, ['input'])).toEqual([{ pointer: '/input/width', message: expect.any(String) }]);
  });

  it('gives each unknown key its own entry', () => {
    const result = Body.safeParse({ width: 8, a: 1, b: 2 });
    expect(fieldErrors(result.error!)).toEqual([
      { pointer: '/a', message: 'unknown field' },
      { pointer: '/b', message: 'unknown field' },
    ]);
  });

  it('reports inside the union branch the value was meant for', () => {
    const result = Body.safeParse({ width: 8, deepcache: { cache_interval: 0 } });
    expect(fieldErrors(result.error!).map((e) => e.pointer)).toEqual(['/deepcache/cache_interval']);
  });

  it('points at the whole document with the empty pointer', () => {
    const result = Body.safeParse('not an object');
    expect(fieldErrors(result.error!)).toEqual([{ pointer: '', message: expect.any(String) }]);
  });
});
