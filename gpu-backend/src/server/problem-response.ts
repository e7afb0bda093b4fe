/**
 * RFC 9457 problem responses for the backend's HTTP API: the shared kit's `problemResponse`
 * (`shared/http/problem-response.ts`).
 * @module
 */
export { problemResponse, type ProblemOptions } from '../../../shared/http/problem-response.js';
