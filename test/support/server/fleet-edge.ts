/**
 * A real HTTP "edge" for backend tests that implements the fleet protocol (`shared/fleet.ts`) strictly: every
 * request must carry the internal signature (checked with `shared/signing.ts`, 401 problem+json otherwise) and
 * parse with the shared zod schema (422 problem+json otherwise, and the violation is recorded). It keeps a queue
 * per model and leases jobs out with a TTL: lease (long poll), heartbeat (renew, or the action a test set:
 * cancel / abort; lost when the lease is not the worker's any more), release (queued again), expiry (queued
 * again as the next attempt), backlog (bearer token). It can go down (connections refused) or answer 503, and
 * come back on the same port.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import {
  BacklogReport,
  FLEET_PATHS,
  HeartbeatRequest,
  LeaseRequest,
  ReleaseRequest,
  type HeartbeatResponse,
  type LeaseAction,
  type LeaseResponse,
  type ReleaseResponse,
} from '../../../shared/fleet.js';
import type { BackendJob } from '../../../shared/internal.js';
import { problem } from '../../../shared/problem.js';
import { verifyInternalRequest } from '../../../shared/signing.js';

export interface FleetEdgeOptions {
  secret: string;
  /** Lease lifetime granted by a lease or a heartbeat. */
  leaseTtlMs?: number;
  /** Heartbeat period the edge asks for. */
  heartbeatMs?: number;
  /** Bearer token of `GET /internal/fleet/backlog`. */
  backlogToken?: string;
  /**
   * Whether the prediction ended under this attempt (its `completed` event arrived where the test receives
   * callbacks). An ended lease is not queued again when it expires, and heartbeats for it answer `lost`.
   */
  ended?: (predictionId: string, attempt: number) => boolean;
}

/** One lease the edge granted. */
export interface GrantedLease {
  predictionId: string;
  attempt: number;
  model: string;
  workerId: string;
  grantedAt: number;
  expiresAt: number;
  /** How it ended, once it did (`stopped`: a heartbeat answered cancel or abort; `ended`: the job reported its end). */
  end: 'released' | 'expired' | 'stopped' | 'ended' | undefined;
}

/** A request the edge received, after its signature and schema checks. */
export interface RecordedRequest {
  endpoint: keyof typeof FLEET_PATHS;
  at: number;
  /** The parsed body (undefined when it failed the checks). */
  body: unknown;
  /** 200, or the refusal status (401, 422, 503). */
  status: number;
  /** The schema violation, if any. */
  violation?: string;
}

interface Entry {
  job: BackendJob;
  /** Attempts leased so far. */
  attempts: number;
  /** Action the next heartbeat answers for the current lease (default continue). */
  action: LeaseAction;
  lease: GrantedLease | undefined;
}

export interface FleetEdge {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly leases: GrantedLease[];
  /** Queues a prediction; it is leased as `job.attempt`, then each lease after that as the next attempt. */
  enqueue(job: BackendJob): void;
  /** The answer the next heartbeats give for the prediction's current lease. */
  setAction(predictionId: string, action: LeaseAction): void;
  /** The current lease of a prediction. */
  leaseOf(predictionId: string): GrantedLease | undefined;
  /** Jobs waiting for a lease, per model. */
  queued(model?: string): number;
  /** Called with each valid lease request before it is served (tests check invariants here). */
  onLeaseRequest: (request: LeaseRequest) => void;
  /** `refused`: the port is closed; `503`: every fleet request is answered 503; `up`: serving again. */
  setMode(mode: 'up' | 'refused' | '503'): Promise<void>;
  /** Resolves when a recorded request satisfies `pred`. */
  waitForRequest(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  /** Resolves when `pred` holds, checked after every request and on a short tick. */
  waitUntil(pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFleetEdge(options: FleetEdgeOptions): Promise<FleetEdge> {
  const ttlMs = options.leaseTtlMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const entries = new Map<string, Entry>();
  const queue: Entry[] = [];
  const requests: RecordedRequest[] = [];
  const leases: GrantedLease[] = [];
  const pollers = new Set<() => void>();
  const watchers = new Set<() => void>();
  let mode: 'up' | 'refused' | '503' = 'up';
  let port = 0;

  const notifyWatchers = () => {
    for (const w of [...watchers]) w();
  };
  const wakePollers = () => {
    for (const p of [...pollers]) p();
  };

  /** Expired leases: their jobs go back to the front of the queue, as the next attempt. */
  const sweep = () => {
    const now = Date.now();
    for (const e of entries.values()) {
      if (e.lease && e.lease.end === undefined && options.ended?.(e.lease.predictionId, e.lease.attempt)) e.lease.end = 'ended';
      if (e.lease && e.lease.end === undefined && e.lease.expiresAt <= now) {
        e.lease.end = 'expired';
        e.action = 'continue';
        queue.unshift(e);
      }
    }
  };
  const sweeper = setInterval(() => {
    const before = queue.length;
    sweep();
    if (queue.length !== before) wakePollers();
  }, 20);

  const take = (request: LeaseRequest): LeaseResponse['jobs'] => {
    sweep();
    const jobs: LeaseResponse['jobs'] = [];
    for (let i = 0; i < queue.length && jobs.length < request.capacity; ) {
      const e = queue[i]!;
      if (e.job.model !== request.model) {
        i++;
        continue;
      }
      queue.splice(i, 1);
      e.attempts += 1;
      e.action = 'continue';
      const now = Date.now();
      e.lease = {
        predictionId: e.job.id,
        attempt: e.attempts,
        model: e.job.model,
        workerId: request.worker_id,
        grantedAt: now,
        expiresAt: now + ttlMs,
        end: undefined,
      };
      leases.push(e.lease);
      jobs.push({ job: { ...e.job, attempt: e.attempts }, lease_expires_at: new Date(e.lease.expiresAt).toISOString() });
    }
    return jobs;
  };

  const lease = async (request: LeaseRequest, closed: Promise<void>): Promise<LeaseResponse> => {
    edge.onLeaseRequest(request);
    const deadline = Date.now() + request.wait_ms;
    for (;;) {
      const jobs = take(request);
      const left = deadline - Date.now();
      if (jobs.length > 0 || left <= 0) return { jobs, lease_ttl_ms: ttlMs, heartbeat_ms: heartbeatMs };
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      pollers.add(wake);
      const timer = setTimeout(wake, left);
      const gone = await Promise.race([woken.then(() => false), closed.then(() => true)]);
      clearTimeout(timer);
      pollers.delete(wake);
      if (gone) return { jobs: [], lease_ttl_ms: ttlMs, heartbeat_ms: heartbeatMs };
    }
  };

  const heartbeat = (request: HeartbeatRequest): HeartbeatResponse => {
    sweep();
    const now = Date.now();
    return {
      leases: request.leases.map((held) => {
        const e = entries.get(held.prediction_id);
        const current = e?.lease;
        if (!e || !current || current.attempt !== held.attempt || current.workerId !== request.worker_id || current.end !== undefined) {
          return { prediction_id: held.prediction_id, attempt: held.attempt, action: 'lost' as const, expires_at: null };
        }
        if (e.action === 'continue') {
          current.expiresAt = now + ttlMs;
          return {
            prediction_id: held.prediction_id,
            attempt: held.attempt,
            action: 'continue' as const,
            expires_at: new Date(current.expiresAt).toISOString(),
          };
        }
        current.end = 'stopped';
        return { prediction_id: held.prediction_id, attempt: held.attempt, action: e.action, expires_at: null };
      }),
    };
  };

  const release = (request: ReleaseRequest): ReleaseResponse => {
    let released = 0;
    for (const ref of request.leases) {
      const e = entries.get(ref.prediction_id);
      const current = e?.lease;
      if (!e || !current || current.attempt !== ref.attempt || current.workerId !== request.worker_id || current.end !== undefined)
        continue;
      current.end = 'released';
      queue.unshift(e);
      released += 1;
    }
    if (released > 0) wakePollers();
    return { released };
  };

  const backlog = (): BacklogReport => {
    sweep();
    const models: BacklogReport['models'] = {};
    for (const e of entries.values()) {
      const m = (models[e.job.model] ??= { queued: 0, leased: 0 });
      if (queue.includes(e)) m.queued += 1;
      else if (e.lease && e.lease.end === undefined) m.leased += 1;
    }
    const all = Object.values(models);
    return BacklogReport.parse({ models, queued: all.reduce((n, m) => n + m.queued, 0), leased: all.reduce((n, m) => n + m.leased, 0) });
  };

  const endpointOf = (pathname: string) =>
    (Object.entries(FLEET_PATHS) as Array<[keyof typeof FLEET_PATHS, string]>).find(([, p]) => p === pathname)?.[0];

  const send = (res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json') => {
    res.writeHead(status, { 'content-type': contentType }).end(JSON.stringify(body));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: string, closed: Promise<void>) => {
    const url = new URL(req.url ?? '/', 'http://edge.test');
    const endpoint = endpointOf(url.pathname);
    if (!endpoint) return send(res, 404, problem('not-found', 404, `no route ${req.method} ${url.pathname}`), 'application/problem+json');
    const record = (status: number, parsed: unknown, violation?: string) => {
      requests.push({ endpoint, at: Date.now(), body: parsed, status, ...(violation === undefined ? {} : { violation }) });
      notifyWatchers();
    };
    if (mode === '503') {
      record(503, undefined);
      return send(res, 503, problem('backend-unavailable', 503, 'the edge is down for a test'), 'application/problem+json');
    }
    if (endpoint === 'backlog') {
      if (req.method !== 'GET' || options.backlogToken === undefined || req.headers.authorization !== `Bearer ${options.backlogToken}`) {
        record(401, undefined);
        return send(res, 401, problem('unauthorized', 401, 'bearer token required'), 'application/problem+json');
      }
      record(200, undefined);
      return send(res, 200, backlog());
    }
    const headers = { get: (n: string) => (req.headers[n.toLowerCase()] as string | undefined) ?? null };
    const why = await verifyInternalRequest(options.secret, req.method ?? '', req.url ?? '', body, headers);
    if (req.method !== 'POST' || why !== null) {
      record(401, undefined, why ?? `method ${req.method}`);
      return send(res, 401, problem('unauthorized', 401, 'the request is not signed with the internal secret'), 'application/problem+json');
    }
    const schema: z.ZodType = endpoint === 'lease' ? LeaseRequest : endpoint === 'heartbeat' ? HeartbeatRequest : ReleaseRequest;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      record(422, undefined, 'not JSON');
      return send(res, 422, problem('validation-failed', 422, 'not JSON'), 'application/problem+json');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const violation = parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).join('; ');
      record(422, json, violation);
      return send(res, 422, problem('validation-failed', 422, violation), 'application/problem+json');
    }
    record(200, parsed.data);
    if (endpoint === 'lease') return send(res, 200, await lease(parsed.data as LeaseRequest, closed));
    if (endpoint === 'heartbeat') return send(res, 200, heartbeat(parsed.data as HeartbeatRequest));
    return send(res, 200, release(parsed.data as ReleaseRequest));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let closeConnection!: () => void;
    const closed = new Promise<void>((resolve) => (closeConnection = resolve));
    res.on('close', closeConnection);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8'), closed).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, problem('internal-error', 500, String(err)), 'application/problem+json');
      });
    });
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      wakePollers();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  await listen();
  port = (server.address() as AddressInfo).port;

  const edge: FleetEdge = {
    url: `http://127.0.0.1:${port}`,
    requests,
    leases,
    enqueue(job) {
      const e: Entry = { job, attempts: job.attempt - 1, action: 'continue', lease: undefined };
      entries.set(job.id, e);
      queue.push(e);
      wakePollers();
    },
    setAction(predictionId, action) {
      const e = entries.get(predictionId);
      if (!e) throw new Error(`no prediction ${predictionId} at the edge`);
      e.action = action;
    },
    leaseOf: (predictionId) => entries.get(predictionId)?.lease,
    queued: (model) => queue.filter((e) => model === undefined || e.job.model === model).length,
    onLeaseRequest: () => {},
    async setMode(next) {
      if (next === mode) return;
      if (mode === 'refused') await listen();
      if (next === 'refused') await stopListening();
      mode = next;
    },
    async waitForRequest(pred, timeoutMs = 30_000) {
      let hit: RecordedRequest | undefined;
      await edge.waitUntil(() => (hit = requests.find(pred)) !== undefined, timeoutMs, 'a matching fleet request');
      return hit!;
    },
    async waitUntil(pred, timeoutMs = 30_000, what = 'the condition') {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`fleet edge: ${what} did not happen within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const done = () => {
            watchers.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 20);
          watchers.add(done);
        });
      }
    },
    async close() {
      clearInterval(sweeper);
      if (mode !== 'refused') await stopListening();
    },
  };
  return edge;
}
