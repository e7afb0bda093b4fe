import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { configFrom } from './config.js';

/** The test Worker's bindings with some vars replaced (a fresh object, so nothing memoized is reused). */
function envWith(vars: Record<string, string | undefined>): Env {
  const copy: Record<string, unknown> = { ...env };
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete copy[name];
    else copy[name] = value;
  }
  return copy as unknown as Env;
}

describe('configFrom', () => {
  describe('SERVED_MODELS', () => {
    it('parses comma-separated catalogue ids, ignoring spaces', () => {
      expect(configFrom(envWith({ SERVED_MODELS: ' stable-diffusion-1.5 , sd15-tiny-demo' })).SERVED_MODELS).toEqual(['stable-diffusion-1.5', 'sd15-tiny-demo']);
    });

    it('throws naming an id that is not in the catalogue', () => {
      expect(() => configFrom(envWith({ SERVED_MODELS: 'sd15-tiny-demo,stable-diffusion-9' }))).toThrow(/SERVED_MODELS.*stable-diffusion-9.*not in the model catalogue/);
    });

    it('throws when it names no model', () => {
      expect(() => configFrom(envWith({ SERVED_MODELS: ' , ' }))).toThrow(/SERVED_MODELS must name at least one model/);
    });

    it('throws when it is missing', () => {
      expect(() => configFrom(envWith({ SERVED_MODELS: undefined }))).toThrow(/SERVED_MODELS/);
    });

    it('throws when it names a model twice', () => {
      expect(() => configFrom(envWith({ SERVED_MODELS: 'sd15-tiny-demo,sd15-tiny-demo' }))).toThrow(/names a model twice/);
    });
  });

  describe('INTERNAL_SECRET', () => {
    it('refuses a secret shorter than 32 characters, the minimum the backends apply too', () => {
      expect(() => configFrom(envWith({ INTERNAL_SECRET: 'x'.repeat(31) }))).toThrow(/INTERNAL_SECRET must be at least 32 characters/);
      expect(configFrom(envWith({ INTERNAL_SECRET: 'x'.repeat(32) })).INTERNAL_SECRET).toBe('x'.repeat(32));
    });

    it('refuses a short INTERNAL_SECRET_PREVIOUS', () => {
      expect(() => configFrom(envWith({ INTERNAL_SECRET_PREVIOUS: 'x'.repeat(31) }))).toThrow(/INTERNAL_SECRET_PREVIOUS must be at least 32 characters/);
    });
  });

  describe('dispatch watchdog', () => {
    it('parses DISPATCH_WATCHDOG_S and DISPATCH_WATCHDOG_STRIKES as integers', () => {
      const config = configFrom(envWith({ DISPATCH_WATCHDOG_S: '7', DISPATCH_WATCHDOG_STRIKES: '3' }));
      expect(config.DISPATCH_WATCHDOG_S).toBe(7);
      expect(config.DISPATCH_WATCHDOG_STRIKES).toBe(3);
    });

    it('uses 30 s and 2 strikes when unset', () => {
      const config = configFrom(envWith({ DISPATCH_WATCHDOG_S: undefined, DISPATCH_WATCHDOG_STRIKES: undefined }));
      expect([config.DISPATCH_WATCHDOG_S, config.DISPATCH_WATCHDOG_STRIKES]).toEqual([30, 2]);
    });

    it.each([
      ['DISPATCH_WATCHDOG_S', '0'],
      ['DISPATCH_WATCHDOG_S', '3601'],
      ['DISPATCH_WATCHDOG_S', 'soon'],
      ['DISPATCH_WATCHDOG_STRIKES', '0'],
      ['DISPATCH_WATCHDOG_STRIKES', '1.5'],
    ])('throws naming %s for %s', (name, value) => {
      expect(() => configFrom(envWith({ [name]: value }))).toThrow(new RegExp(name));
    });
  });
});
