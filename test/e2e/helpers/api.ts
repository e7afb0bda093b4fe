/**
 * A thin client for the stack's public API in end-to-end tests: JSON requests with the development key,
 * the balance, and polling a prediction until it ends.
 * @module
 */
import type { Stack } from '../../../scripts/stack/start-stack.js';

/** The prediction object as the API returns it (only what tests read). */
export interface PredictionJson {
  id: string;
  status: string;
  output: string[] | null;
  error: string | null;
  metrics: { predict_time?: number; unet_full_steps?: number; unet_shallow_steps?: number };
  cost: { credits: number };
  urls: { get: string; cancel: string; stream: string };
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const terminal = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/** Sends a request with the stack's API key (unless `authorization` is given) and parses a JSON answer. */
export async function call<T = unknown>(
  stack: Stack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text === '' ? null : JSON.parse(text)) as T };
}

/** An admin API call with the stack's admin token; throws unless it answers 2xx. */
export async function admin<T>(stack: Stack, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.edgeUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** The account's balance in credits. */
export async function balance(stack: Stack): Promise<number> {
  const res = await call<{ balance: { credits: number } }>(stack, 'GET', '/v1/account');
  if (res.status !== 200) throw new Error(`GET /v1/account answered ${res.status}`);
  return res.body.balance.credits;
}

/** A small, quick request for the demo model. */
export function tinyRequest(input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: 'sd15-tiny-demo',
    input: { prompt: 'a red fox in the snow', width: 64, height: 64, num_inference_steps: 4, seed: 7, ...input },
    ...extra,
  };
}

/**
 * Deadlines of the condition waits below. They only stop a wait that would otherwise never end: a wait returns as
 * soon as its condition holds, and on a busy 2-core machine (CI runs beside other work) a CPU-bound prediction can
 * take many times its quiet-machine duration, so the deadlines are far above what any run needs.
 */
export const WAIT_DEADLINE_MS = 300_000;

/** Polls `GET /v1/predictions/:id` until the prediction has ended. */
export async function waitForEnd(stack: Stack, id: string, timeoutMs = WAIT_DEADLINE_MS): Promise<PredictionJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call<PredictionJson>(stack, 'GET', `/v1/predictions/${id}`);
    if (res.status === 200 && terminal.has(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`prediction ${id} did not end: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls until `probe` returns a value other than undefined. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = WAIT_DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
