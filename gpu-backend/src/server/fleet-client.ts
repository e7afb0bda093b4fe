/**
 * The backend's client for the edge's fleet endpoints (`shared/fleet.ts`): lease, heartbeat and release, each a
 * POST signed with the internal secret (as callbacks are) whose answer is parsed with the shared schema.
 * One request per call, no retries: the work puller decides when to try again.
 * @module
 */
import type { z } from 'zod';
import {
  FLEET_PATHS,
  HeartbeatResponse,
  LeaseResponse,
  ReleaseResponse,
  type HeartbeatRequest,
  type LeaseRequest,
  type ReleaseRequest,
} from '../../../shared/fleet.js';
import { signInternalRequest } from '../../../shared/signing.js';
import { isRetryableStatus, parseRetryAfterMs } from './retry.js';

export interface FleetClientOptions {
  /** The edge's base URL; the fleet paths are resolved against its origin. */
  edgeUrl: string;
  secret: string;
  /** Time limit of a heartbeat or release, and what a lease may take beyond its `wait_ms`. */
  timeoutMs: number;
}

/** A fleet request that did not get a valid 2xx answer. */
export class FleetRequestError extends Error {
  override readonly name = 'FleetRequestError';
  constructor(
    readonly endpoint: keyof typeof FLEET_PATHS,
    message: string,
    /** HTTP status, when an answer came. */
    readonly status: number | undefined,
    /** Whether trying again may succeed (network errors, timeouts, 5xx, 408, 429); a 4xx means a bug or a bad secret. */
    readonly transient: boolean,
    /** How long the edge asked to wait (Retry-After), if it did. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

export class FleetClient {
  readonly #options: FleetClientOptions;

  constructor(options: FleetClientOptions) {
    this.#options = options;
  }

  /** Long-polls for up to `request.capacity` jobs; `signal` cuts the poll short. */
  lease(request: LeaseRequest, signal?: AbortSignal): Promise<LeaseResponse> {
    return this.#post('lease', request, LeaseResponse, this.#options.timeoutMs + request.wait_ms, signal);
  }

  heartbeat(request: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse> {
    return this.#post('heartbeat', request, HeartbeatResponse, this.#options.timeoutMs, signal);
  }

  release(request: ReleaseRequest, signal?: AbortSignal): Promise<ReleaseResponse> {
    return this.#post('release', request, ReleaseResponse, this.#options.timeoutMs, signal);
  }

  async #post<T>(
    endpoint: keyof typeof FLEET_PATHS,
    request: unknown,
    schema: z.ZodType<T>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const url = new URL(FLEET_PATHS[endpoint], this.#options.edgeUrl);
    const body = JSON.stringify(request);
    let res: Response;
    try {
      const headers = await signInternalRequest(this.#options.secret, 'POST', url.pathname + url.search, body);
      const timeout = AbortSignal.timeout(timeoutMs);
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
    } catch (err) {
      throw new FleetRequestError(
        endpoint,
        `${endpoint}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
        undefined,
        true,
        undefined,
      );
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      throw new FleetRequestError(
        endpoint,
        `${endpoint}: HTTP ${res.status}`,
        res.status,
        isRetryableStatus(res.status),
        parseRetryAfterMs(res.headers.get('retry-after'), Date.now()),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new FleetRequestError(endpoint, `${endpoint}: the answer is not JSON`, res.status, true, undefined);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new FleetRequestError(
        endpoint,
        `${endpoint}: the answer breaks the protocol at /${issue?.path.join('/') ?? ''}: ${issue?.message ?? ''}`,
        res.status,
        true,
        undefined,
      );
    }
    return parsed.data;
  }
}
