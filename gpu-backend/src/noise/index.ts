/** Seeded Gaussian noise (Philox4x32-10 + Box–Muller). Re-exports only. @module */
export * from './noise-source.js';
export * from './philox.js';
export * from './philox-noise.js';
