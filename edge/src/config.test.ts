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
      expect(configFrom(envWith({ SERVED_MODELS: ' stable-diffusion-1.5 , sd15-tiny-demo' })).SERVED_MODELS).toEqual([
        'stable-diffusion-1.5',
        'sd15-tiny-demo',
      ]);
    });

    it('throws naming an id that is not in the catalogue', () => {
      expect(() => configFrom(envWith({ SERVED_MODELS: 'sd15-tiny-demo,stable-diffusion-9' }))).toThrow(
        /SERVED_MODELS.*stable-diffusion-9.*not in the model catalogue/,
      );
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
      expect(() => configFrom(envWith({ INTERNAL_SECRET_PREVIOUS: 'x'.repeat(31) }))).toThrow(
        /INTERNAL_SECRET_PREVIOUS must be at least 32 characters/,
      );
    });
  });

  describe('fleet leases', () => {
    it('parses LEASE_TTL_S and LEASE_HEARTBEAT_S as integers', () => {
      const config = configFrom(envWith({ LEASE_TTL_S: '12', LEASE_HEARTBEAT_S: '3' }));
      expect([config.LEASE_TTL_S, config.LEASE_HEARTBEAT_S]).toEqual([12, 3]);
    });

    it('uses 30 s and 5 s when unset', () => {
      const config = configFrom(envWith({ LEASE_TTL_S: undefined, LEASE_HEARTBEAT_S: undefined }));
      expect([config.LEASE_TTL_S, config.LEASE_HEARTBEAT_S]).toEqual([30, 5]);
    });

    it.each([
      ['LEASE_TTL_S', '1'],
      ['LEASE_TTL_S', 'soon'],
      ['LEASE_HEARTBEAT_S', '0'],
      ['LEASE_HEARTBEAT_S', '1.5'],
      ['FLEET_METRICS_TOKEN', 'short'],
    ])('throws naming %s for %s', (name, value) => {
      expect(() => configFrom(envWith({ [name]: value }))).toThrow(new RegExp(name));
    });

    it('throws when FLEET_METRICS_TOKEN is missing', () => {
      expect(() => configFrom(envWith({ FLEET_METRICS_TOKEN: undefined }))).toThrow(/FLEET_METRICS_TOKEN/);
    });
  });
});
