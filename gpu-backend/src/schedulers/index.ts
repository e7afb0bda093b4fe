/** Sampling schedulers equivalent to diffusers v0.30.3. Re-exports only. @module */
export * from './scheduler.js';
export * from './config.js';
export * from './common.js';
export * from './ddim.js';
export * from './pndm.js';
export * from './euler.js';
export * from './euler-ancestral.js';
export * from './dpmpp-2m.js';
export * from './registry.js';
