import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from './logger.js';

function capture(level: LogLevel = 'debug') {
  const lines: { line: string; level: LogLevel }[] = [];
  const logger = createLogger({
    level,
    write: (line, at) => lines.push({ line, level: at }),
    now: () => new Date('2026-01-02T03:04:05.000Z'),
  });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON document per event with time, level, msg and the fields', () => {
    const { logger, lines, parsed } = capture();
    logger.warn('queue full', { prediction_id: 'p1', depth: 4 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('warn');
    expect(parsed()[0]).toEqual({ time: '2026-01-02T03:04:05.000Z', level: 'warn', msg: 'queue full', prediction_id: 'p1', depth: 4 });
  });

  it('binds fields in child loggers; a child field wins over its parent, an event field over both', () => {
    const { logger, parsed } = capture();
    const child = logger.child({ service: 'edge', request_id: 'r1' }).child({ request_id: 'r2', step: 1 });
    child.info('a', { step: 2 });
    expect(parsed()[0]).toMatchObject({ service: 'edge', request_id: 'r2', step: 2 });
  });

  it('drops events below the level', () => {
    const { logger, parsed } = capture('warn');
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    expect(parsed().map((p) => p.msg)).toEqual(['c', 'd']);
  });

  it('redacts secret-looking fields at any depth, in bound fields and in arrays', () => {
    const { logger, lines, parsed } = capture();
    logger.child({ authorization: 'Bearer key_abc' }).info('x', {
      job: { input: { prompt: 'a castle' }, headers: { 'x-internal-signature': 'v1,sig' } },
      attempts: [{ webhook_secret: 'whsec_zzz', status: 500 }],
      api_key: 'key_live',
      seed: 5,
    });
    expect(lines[0]?.line).not.toMatch(/castle|key_abc|v1,sig|whsec_zzz|key_live/);
    expect(parsed()[0]).toMatchObject({
      authorization: '[redacted]',
      job: { input: '[redacted]', headers: { 'x-internal-signature': '[redacted]' } },
      attempts: [{ webhook_secret: '[redacted]', status: 500 }],
      seed: 5,
    });
  });

  it('serializes errors with name, message, stack and cause', () => {
    const { logger, parsed } = capture();
    logger.error('failed', { error: new TypeError('bad', { cause: new Error('root') }) });
    const error = parsed()[0]?.error as Record<string, unknown>;
    expect(error).toMatchObject({ name: 'TypeError', message: 'bad', cause: { name: 'Error', message: 'root' } });
    expect(error.stack).toEqual(expect.stringContaining('TypeError: bad'));
  });

  it('omits undefined fields', () => {
    const { logger, lines } = capture();
    logger.info('x', { a: undefined, b: 1 });
    expect(lines[0]?.line).not.toContain('"a"');
  });
});
