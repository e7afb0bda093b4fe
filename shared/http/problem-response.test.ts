import { describe, expect, it } from 'vitest';
import { problemResponse, PROBLEM_CONTENT_TYPE } from './problem-response.js';

describe('problemResponse', () => {
  it('renders the problem document with its status and application/problem+json', async () => {
    const res = problemResponse('validation-failed', 422, 'the job failed validation', {
      requestId: 'req_abc12345',
      instance: '/predictions/x',
      errors: [{ pointer: '/id', message: 'not a prediction id' }],
      headers: { 'retry-after': '5', 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({
      type: '/problems/validation-failed',
      title: 'The request failed validation',
      status: 422,
      detail: 'the job failed validation',
      code: 'validation-failed',
      instance: '/predictions/x',
      request_id: 'req_abc12345',
      errors: [{ pointer: '/id', message: 'not a prediction id' }],
    });
  });

  it('leaves out the members that were not given', async () => {
    const body = await problemResponse('queue-full', 409, 'full').json();
    expect(Object.keys(body as object).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  });
});
