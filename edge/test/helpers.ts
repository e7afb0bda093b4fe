/**
 * Helpers for tests running inside workerd: requests into the worker under test, accounts and keys through
 * the admin API, and acting as a GPU backend: leasing through the signed fleet endpoints, with the loopback fake
 * backend producing the outputs and signed events.
 * @module
 */
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { FLEET_PATHS, type HeartbeatResponse, type HeldLease, type LeaseAction, type LeaseResponse } from '../../shared/fleet.js';
import type { BackendJob } from '../../shared/internal.js';
import { signInternalRequest } from '../../shared/signing.js';
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
export async function newCustomer(
  name = 'customer',
  credits = DEFAULT_TEST_CREDITS,
): Promise<{ accountId: string; keyId: string; key: string }> {
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
export async function createPrediction(
  key: string,
  body: unknown = createBody(),
  headers: Record<string, string> = {},
): Promise<{ res: Response; prediction: Prediction }> {
  const res = await call('/v1/predictions', jsonInit('POST', body, key, headers));
  return { res, prediction: await res.clone().json<Prediction>() };
}

/** The worker id the tests lease under. */
export const TEST_WORKER_ID = 'test-gpu-0';

/** Sends a request signed like a backend's (INTERNAL_SECRET) to the worker under test. */
export async function signedCall(method: string, path: string, body: unknown): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = await signInternalRequest(env.INTERNAL_SECRET, method, path, text);
  return call(path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: text });
}

/** `POST /internal/fleet/lease` as a backend; expects 200. */
export async function lease(model: string, capacity: number, waitMs = 0, workerId = TEST_WORKER_ID): Promise<LeaseResponse> {
  const res = await signedCall('POST', FLEET_PATHS.lease, { worker_id: workerId, model, capacity, wait_ms: waitMs });
  expect(res.status).toBe(200);
  const body = await res.json<LeaseResponse>();
  for (const { job } of body.jobs) leased.set(job.id, job);
  return body;
}

/** `POST /internal/fleet/heartbeat` as a backend; expects 200. */
export async function heartbeat(leases: HeldLease[], workerId = TEST_WORKER_ID): Promise<HeartbeatResponse> {
  const res = await signedCall('POST', FLEET_PATHS.heartbeat, { worker_id: workerId, leases });
  expect(res.status).toBe(200);
  return res.json<HeartbeatResponse>();
}

/** Jobs the tests have leased, by prediction (the latest attempt). */
const leased = new Map<string, BackendJob>();

/** Leases everything queued for `model` (remembered, so `waitForJob` still finds those jobs later). */
export async function drainQueue(model: string): Promise<void> {
  while ((await lease(model, 64)).jobs.length > 0);
}

/**
 * Leases until the job of prediction `id` comes out as an attempt after `afterAttempt` (other jobs leased
 * meanwhile are remembered) and hands it to the fake backend, which then produces its events. Returns the fake
 * backend and the job.
 */
export async function waitForJob(id: string, afterAttempt = 0, timeoutMs = 8_000): Promise<{ backend: string; job: BackendJob }> {
  const row = await env.DB.prepare('SELECT model FROM predictions WHERE id = ?').bind(id).first<{ model: string }>();
  if (!row) throw new Error(`no prediction ${id}`);
  const until = Date.now() + timeoutMs;
  const ready = (): boolean => (leased.get(id)?.attempt ?? 0) > afterAttempt;
  while (!ready() && Date.now() < until) await lease(row.model, 64, 200);
  const job = leased.get(id);
  if (!job || !ready()) throw new Error(`prediction ${id} was not leased (after attempt ${afterAttempt}) within ${timeoutMs} ms`);
  const res = await fetch(`${env.TEST_BACKEND}/_test/jobs`, { method: 'POST', body: JSON.stringify({ job }) });
  expect(res.status).toBe(200);
  return { backend: env.TEST_BACKEND, job };
}

/** Has the backend produce its next (or repeated) callback event and delivers it to the worker. */
export async function deliver(backend: string, id: string, spec: Record<string, unknown>): Promise<Response> {
  const res = await fetch(`${backend}/_test/jobs/${id}/events`, { method: 'POST', body: JSON.stringify(spec) });
  expect(res.status).toBe(200);
  const signed = await res.json<{ path: string; headers: Record<string, string>; body: string }>();
  return call(signed.path, { method: 'POST', headers: signed.headers, body: signed.body });
}

/** The action the next heartbeat of the test's lease on prediction `id` answers (the lease must be held). */
export async function heartbeatActionOf(id: string): Promise<LeaseAction> {
  const job = leased.get(id);
  if (!job) throw new Error(`prediction ${id} was never leased by the tests`);
  const [answer] = (await heartbeat([{ prediction_id: id, attempt: job.attempt }])).leases;
  if (!answer) throw new Error('the heartbeat answered no lease');
  return answer.action;
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
