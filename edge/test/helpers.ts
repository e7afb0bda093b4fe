/**
 * Helpers for tests running inside workerd: requests into the worker under test, accounts and keys through
 * the admin API, and driving the loopback fake backends.
 * @module
 */
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import type { BackendJob } from '../../shared/internal.js';
import type { Prediction } from '../../shared/prediction.js';
import { TEST_ADMIN_TOKEN, TEST_ORIGIN } from './constants.js';

/** Sends a request to the worker under test (path relative to the test origin). */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${TEST_ORIGIN}${path}`, init));
}

/** JSON request init with optional bearer token and extra headers. */
export function jsonInit(method: string, body: unknown, token?: string, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** Bearer header init. */
export function auth(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } };
}

/** Admin call. */
export function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return call(path, body === undefined ? auth(TEST_ADMIN_TOKEN, { method }) : jsonInit(method, body, TEST_ADMIN_TOKEN));
}

/** Credits a new test customer starts with (enough for every test that does not test the balance itself). */
const DEFAULT_TEST_CREDITS = 1_000_000;

/** Creates an account topped up with `credits` (none when 0) and one key. */
export async function newCustomer(name = 'customer', credits = DEFAULT_TEST_CREDITS): Promise<{ accountId: string; keyId: string; key: string }> {
  const account = await (await admin('POST', '/admin/accounts', { name })).json<{ id: string }>();
  if (credits > 0) expect((await admin('POST', `/admin/accounts/${account.id}/credits`, { credits, note: 'test' })).status).toBe(201);
  const created = await admin('POST', `/admin/accounts/${account.id}/keys`, { name: 'default' });
  expect(created.status).toBe(201);
  const key = await created.json<{ id: string; key: string }>();
  return { accountId: account.id, keyId: key.id, key: key.key };
}

/** A minimal valid create body for the tiny demo model. */
export function createBody(input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'sd15-tiny-demo', input: { prompt: 'a red square', num_inference_steps: 6, ...input }, ...extra };
}

/** Creates a prediction and returns the response and body. */
export async function createPrediction(key: string, body: unknown = createBody(), headers: Record<string, string> = {}): Promise<{ res: Response; prediction: Prediction }> {
  const res = await call('/v1/predictions', jsonInit('POST', body, key, headers));
  return { res, prediction: await res.clone().json<Prediction>() };
}

export const backends = (): [string, string] => [env.TEST_BACKEND_A, env.TEST_BACKEND_B];

/** Sets a fake backend's behaviour. */
export async function setBackendMode(url: string, mode: 'ready' | 'busy' | 'error' | 'defunct' | 'hold'): Promise<void> {
  const res = await fetch(`${url}/_test/mode`, { method: 'POST', body: JSON.stringify({ mode }) });
  expect(res.status).toBe(200);
}

/** Polls both backends until one holds the job; returns that backend and the job. */
export async function waitForJob(id: string, timeoutMs = 8_000): Promise<{ backend: string; job: BackendJob; cancelRequested: boolean }> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const backend of backends()) {
      const res = await fetch(`${backend}/_test/jobs/${id}`);
      if (res.ok) {
        const { job, cancel_requested } = await res.json<{ job: BackendJob; cancel_requested: boolean }>();
        return { backend, job, cancelRequested: cancel_requested };
      }
      await res.body?.cancel();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`prediction ${id} was not dispatched within ${timeoutMs} ms`);
}

/** Has the backend produce its next (or repeated) callback event and delivers it to the worker. */
export async function deliver(backend: string, id: string, spec: Record<string, unknown>): Promise<Response> {
  const res = await fetch(`${backend}/_test/jobs/${id}/events`, { method: 'POST', body: JSON.stringify(spec) });
  expect(res.status).toBe(200);
  const signed = await res.json<{ path: string; headers: Record<string, string>; body: string }>();
  return call(signed.path, { method: 'POST', headers: signed.headers, body: signed.body });
}

/** Polls until the backend holding prediction `id` has received a cancel for it; false after `timeoutMs`. */
export async function waitForCancelAtBackend(id: string, timeoutMs = 8_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await waitForJob(id)).cancelRequested) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Runs a prediction to success through the backend. */
export async function runToSuccess(id: string): Promise<void> {
  const { backend } = await waitForJob(id);
  for (const spec of [{ type: 'started' }, { type: 'progress', step: 1, total: 6 }, { type: 'completed', status: 'succeeded' }]) {
    expect((await deliver(backend, id, spec)).status).toBe(200);
  }
}

/** GET a prediction as its owner. */
export async function getPrediction(key: string, id: string): Promise<Prediction> {
  const res = await call(`/v1/predictions/${id}`, auth(key));
  expect(res.status).toBe(200);
  return res.json<Prediction>();
}
