import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../errors/api-error.js';
import { appWith } from '../test-app.js';
import { errorStyle } from './index.js';

const deny = async (): Promise<never> => {
  throw new ApiError(422, 'validation-failed', 'bad', { errors: [{ pointer: '/size', message: 'must look like 512x512' }] });
};

describe('errorStyle', () => {
  it('renders errors in OpenAI shape when set to openai', async () => {
    const res = await appWith(errorStyle('openai'), deny).request('/x', {}, env);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      error: { message: 'bad: /size must look like 512x512', type: 'invalid_request_error', param: 'size', code: 'validation-failed' },
    });
  });

  it('renders problem+json when set to problem', async () => {
    const res = await appWith(errorStyle('problem'), deny).request('/x', {}, env);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: '/problems/validation-failed', status: 422, errors: [{ pointer: '/size' }] });
  });
});
