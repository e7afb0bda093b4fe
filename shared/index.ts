/** Contracts shared by the edge and the GPU backend. Re-exports only. @module */
export * from './deepcache.js';
export * from './image-format.js';
export * from './internal.js';
export * from './models.js';
export * from './prediction.js';
export * from './problem.js';
export * from './scheduler.js';
export * from './signing.js';
