/**
 * The fleet routes GPU backends pull work through (`shared/fleet.ts`, docs/fleet.md): lease (long poll),
 * heartbeat and release, signed like the event callback (`internalAuth`), and the backlog KEDA scales on
 * (bearer FLEET_METRICS_TOKEN). Bodies are the contract's zod schemas; a bad body answers 422 and changes nothing.
 * @module
 */
import { createRoute, OpenAPIHono, type z } from '@hono/zod-openapi';
import {
  BacklogReport,
  FLEET_PATHS,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaseRequest,
  LeaseResponse,
  ReleaseRequest,
  ReleaseResponse,
  type ModelBacklog,
} from '../../../shared/fleet.js';
import type { AppEnv } from '../app-env.js';
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { defaultHook } from '../errors/default-hook.js';
import { claimTakenJobs } from '../fleet/claim.js';
import { workQueueOf } from '../fleet/work-queue.js';
import { problemResponse } from '../schemas/components.js';
import { edgeLogger } from '../logging.js';

const tags = ['internal'];
const signed = [{ internalSignature: [] }];
const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } }) as const;
const invalidBody = problemResponse('The body is not a valid request (nothing changed)');
const badSignature = problemResponse('Missing or wrong signature');

export const leaseRoute = createRoute({
  method: 'post',
  path: FLEET_PATHS.lease,
  tags,
  security: signed,
  summary: 'Lease up to `capacity` jobs of a model (long poll up to `wait_ms`; HMAC-signed)',
  description:
    'Each job is leased as the prediction’s next attempt until `lease_expires_at`; the lease is kept by heartbeats. Jobs go out round-robin across accounts (the least recently served first, FIFO within one). An empty `jobs` means nothing arrived within `wait_ms`.',
  request: { body: { required: true, content: json(LeaseRequest.openapi('LeaseRequest')) } },
  responses: {
    200: { description: 'Leased jobs (possibly none)', content: json(LeaseResponse.openapi('LeaseResponse')) },
    400: problemResponse('Malformed JSON'),
    401: badSignature,
    422: invalidBody,
  },
});

export const heartbeatRoute = createRoute({
  method: 'post',
  path: FLEET_PATHS.heartbeat,
  tags,
  security: signed,
  summary: 'Renew leases and report progress; answers per lease continue / cancel / abort / lost (HMAC-signed)',
  request: { body: { required: true, content: json(HeartbeatRequest.openapi('HeartbeatRequest')) } },
  responses: {
    200: { description: 'What to do with each lease', content: json(HeartbeatResponse.openapi('HeartbeatResponse')) },
    400: problemResponse('Malformed JSON'),
    401: badSignature,
    422: invalidBody,
  },
});

export const releaseRoute = createRoute({
  method: 'post',
  path: FLEET_PATHS.release,
  tags,
  security: signed,
  summary: 'Hand leases back unstarted; each job is queued again at once (HMAC-signed)',
  request: { body: { required: true, content: json(ReleaseRequest.openapi('ReleaseRequest')) } },
  responses: {
    200: {
      description: 'How many leases were this worker’s and are queued again',
      content: json(ReleaseResponse.openapi('ReleaseResponse')),
    },
    400: problemResponse('Malformed JSON'),
    401: badSignature,
    422: invalidBody,
  },
});

export const backlogRoute = createRoute({
  method: 'get',
  path: FLEET_PATHS.backlog,
  tags,
  security: [{ fleetMetricsAuth: [] }],
  summary: 'Queued and leased jobs per served model and in total (for KEDA’s metrics-api scaler)',
  responses: {
    200: { description: 'The backlog', content: json(BacklogReport.openapi('BacklogReport')) },
    401: problemResponse('Fleet metrics token missing or invalid'),
  },
});

/** Groups leases by prediction so that each is asked about in the model queue that holds it. */
async function modelsOf(env: Env, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const models = new Map<string, string>();
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    const { results } = await env.DB.prepare(`SELECT id, model FROM predictions WHERE id IN (${chunk.map(() => '?').join(', ')})`)
      .bind(...chunk)
      .all<{ id: string; model: string }>();
    for (const r of results) models.set(r.id, r.model);
  }
  return models;
}

/** Sub-app with the fleet routes (the signed ones behind `internalAuth`, the backlog behind `fleetMetricsAuth`). */
export const fleetRoutes = new OpenAPIHono<AppEnv>({ defaultHook })
  .openapi(leaseRoute, async (c) => {
    const request = c.req.valid('json');
    const config = configFrom(c.env);
    if (!config.SERVED_MODELS.includes(request.model)) {
      throw new ApiError(422, 'validation-failed', `Model ${request.model} is not served here`, {
        errors: [{ pointer: '/model', message: 'not in SERVED_MODELS' }],
      });
    }
    const ttlMs = config.LEASE_TTL_S * 1000;
    const queue = workQueueOf(c.env, request.model);
    const taken = await queue.lease(request.worker_id, request.capacity, request.wait_ms, ttlMs);
    const claimed = await claimTakenJobs(c.env, c.get('statusListeners'), queue, request.worker_id, taken);
    if (claimed.length > 0) {
      edgeLogger.info('leased', {
        worker_id: request.worker_id,
        model: request.model,
        leases: claimed.map(({ job }) => ({ prediction_id: job.id, attempt: job.attempt })),
      });
    }
    return c.json(
      {
        jobs: claimed.map(({ job, expiresAtMs }) => ({ job, lease_expires_at: new Date(expiresAtMs).toISOString() })),
        lease_ttl_ms: ttlMs,
        heartbeat_ms: config.LEASE_HEARTBEAT_S * 1000,
      },
      200,
    );
  })
  .openapi(heartbeatRoute, async (c) => {
    const request = c.req.valid('json');
    const ttlMs = configFrom(c.env).LEASE_TTL_S * 1000;
    const models = await modelsOf(c.env, [...new Set(request.leases.map((l) => l.prediction_id))]);
    const byModel = new Map<string, typeof request.leases>();
    const answers = new Map<string, { action: 'continue' | 'cancel' | 'abort' | 'lost'; expires_at: string | null }>();
    for (const lease of request.leases) {
      const model = models.get(lease.prediction_id);
      if (model === undefined) answers.set(`${lease.prediction_id}:${lease.attempt}`, { action: 'lost', expires_at: null });
      else byModel.set(model, [...(byModel.get(model) ?? []), lease]);
    }
    for (const [model, leases] of byModel) {
      const verdicts = await workQueueOf(c.env, model).heartbeat(
        request.worker_id,
        leases.map((l) => ({ predictionId: l.prediction_id, attempt: l.attempt, progress: l.progress })),
        ttlMs,
      );
      for (const v of verdicts)
        answers.set(`${v.predictionId}:${v.attempt}`, {
          action: v.action,
          expires_at: v.expiresAtMs === null ? null : new Date(v.expiresAtMs).toISOString(),
        });
    }
    return c.json(
      {
        leases: request.leases.map((l) => ({
          prediction_id: l.prediction_id,
          attempt: l.attempt,
          ...(answers.get(`${l.prediction_id}:${l.attempt}`) ?? { action: 'lost' as const, expires_at: null }),
        })),
      },
      200,
    );
  })
  .openapi(releaseRoute, async (c) => {
    const request = c.req.valid('json');
    const models = await modelsOf(c.env, [...new Set(request.leases.map((l) => l.prediction_id))]);
    const byModel = new Map<string, Array<{ predictionId: string; attempt: number }>>();
    for (const lease of request.leases) {
      const model = models.get(lease.prediction_id);
      if (model !== undefined)
        byModel.set(model, [...(byModel.get(model) ?? []), { predictionId: lease.prediction_id, attempt: lease.attempt }]);
    }
    let released = 0;
    for (const [model, leases] of byModel) released += await workQueueOf(c.env, model).release(request.worker_id, leases);
    edgeLogger.info('leases released', { worker_id: request.worker_id, reason: request.reason, asked: request.leases.length, released });
    return c.json({ released }, 200);
  })
  .openapi(backlogRoute, async (c) => {
    const models: Record<string, ModelBacklog> = {};
    let queued = 0;
    let leased = 0;
    for (const model of configFrom(c.env).SERVED_MODELS) {
      const counts = await workQueueOf(c.env, model).counts();
      models[model] = { queued: counts.queued, leased: counts.leased };
      queued += counts.queued;
      leased += counts.leased;
    }
    return c.json({ models, queued, leased }, 200);
  });
