/**
 * The fleet benchmark's API client: creates predictions (synchronously with `Prefer: wait`, or asynchronously)
 * and reads them until they have ended. Timing comes from the API's own timestamps, not the client's clock.
 * @module
 */
import type { TimedPrediction } from './timing.js';

/** Where and as whom requests go. */
export interface FleetTarget {
  edgeUrl: string;
  apiKey: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);
/** Interval between reads of a prediction that has not ended (the API's timestamps do not depend on it). */
const POLL_MS = 250;

async function request(
  target: FleetTarget,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: TimedPrediction }> {
  const res = await fetch(`${target.edgeUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as TimedPrediction };
  } catch {
    throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * Creates a prediction and waits for its end within the request (`Prefer: wait`), reading it again if the
 * wait ran out first.
 * @throws Error when the create is refused or the prediction does not succeed
 */
export async function createAndWait(target: FleetTarget, create: unknown, waitS = 60): Promise<TimedPrediction> {
  const res = await request(target, 'POST', '/v1/predictions', create, { prefer: `wait=${waitS}` });
  if (res.status !== 201 && res.status !== 202)
    throw new Error(`POST /v1/predictions answered ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
  const ended = TERMINAL.has(res.body.status) ? res.body : (await waitForAll(target, [res.body.id]))[0]!;
  if (ended.status !== 'succeeded') throw new Error(`prediction ${ended.id} ended ${ended.status}`);
  return ended;
}

/**
 * Creates a prediction without waiting.
 * @returns its id
 * @throws Error when the create is refused
 */
export async function createAsync(target: FleetTarget, create: unknown): Promise<string> {
  const res = await request(target, 'POST', '/v1/predictions', create);
  if (res.status !== 201 && res.status !== 202)
    throw new Error(`POST /v1/predictions answered ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
  return res.body.id;
}

/**
 * Reads each prediction until it has ended (in order, so at most one read is in flight).
 * @param deadlineMs stops a wait that would otherwise never end
 * @returns the ended predictions, in the order of `ids`
 */
export async function waitForAll(target: FleetTarget, ids: readonly string[], deadlineMs = 1_800_000): Promise<TimedPrediction[]> {
  const deadline = Date.now() + deadlineMs;
  const ended: TimedPrediction[] = [];
  for (const id of ids) {
    for (;;) {
      const res = await request(target, 'GET', `/v1/predictions/${id}`);
      if (res.status === 200 && TERMINAL.has(res.body.status)) {
        ended.push(res.body);
        break;
      }
      if (Date.now() > deadline) throw new Error(`prediction ${id} did not end: ${JSON.stringify(res.body).slice(0, 400)}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  return ended;
}
