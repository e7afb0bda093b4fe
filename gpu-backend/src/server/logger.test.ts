import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

describe('createLogger', () => {
  it('writes one JSON line per event with level, msg and context fields', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) }).child({ request_id: 'r1' });
    log.info('prediction accepted', { prediction_id: 'p1', queue_ms: 3 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      msg: 'prediction accepted',
      request_id: 'r1',
      prediction_id: 'p1',
      queue_ms: 3,
    });
  });

  it('drops events below the configured level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.debug('a');
    log.info('b');
    log.warn('c');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['c']);
  });

  it('redacts prompts, inputs, secrets and signatures whatever the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    log.debug('x', {
      prompt: 'a castle',
      input: { prompt: 'a castle' },
      internal_secret: 's3cr3t',
      'x-internal-signature': 'v1,abc',
      seed: 5,
    });
    expect(lines[0]).not.toMatch(/castle|s3cr3t|v1,abc/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ seed: 5, prompt: '[redacted]' });
  });

  it('writes errors as name and message', () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).error('failed', { err: new TypeError('bad') });
    expect(JSON.parse(lines[0]!)).toMatchObject({ err: { name: 'TypeError', message: 'bad' } });
  });
});
