/**
 * The HTTP kit both services use (runtime-neutral: workerd and Node): request ids, JSON Pointers, zod issues →
 * field errors, problem+json responses and the structured logger. Re-exports only.
 * @module
 */
export * from './field-errors.js';
export * from './json-pointer.js';
export * from './logger.js';
export * from './problem-response.js';
export * from './request-id.js';
