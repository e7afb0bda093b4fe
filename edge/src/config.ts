/**
 * Typed configuration parsed once per request from the Worker's vars and secrets (never read ad hoc).
 * @module
 */
import { z } from 'zod';
import { internalSecretSetting } from '../../shared/internal.js';
import { findModel } from '../../shared/models.js';

/** Delays before webhook retries 1..7 (Standard Webhooks' suggested schedule, about 28 h in all). */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

/** Seconds in a duration such as `90`, `5s`, `5m`, `2h`, `1h30m`; null when malformed. */
export function parseDurationSeconds(text: string): number | null {
  if (/^\d{1,6}$/.test(text)) return Number(text);
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text.length === 0) return null;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** Longest presigned URL lifetime S3 accepts (SigV4 query signing: 7 days). */
const MAX_URL_TTL_S = 604_800;

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);

export const EdgeConfig = z.object({
  PUBLIC_BASE_URL: z.url().transform((u) => u.replace(/\/+$/, '')),
  S3_ENDPOINT: z.url().transform((u) => u.replace(/\/+$/, '')),
  /**
   * Origin that presigned output URLs name when clients reach the store another way than the edge does (e.g. an
   * HTTPS front that passes the Host header through); default S3_ENDPOINT.
   */
  S3_PUBLIC_ENDPOINT: z
    .url({ protocol: /^https?$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  S3_REGION: z.string().min(1),
  S3_BUCKET: z.string().min(3),
  S3_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/),
  S3_URL_TTL_SECONDS: z.coerce.number().int().min(1).max(MAX_URL_TTL_S).default(3600),
  S3_ACCESS_KEY_ID: z.string().min(1),
  S3_SECRET_ACCESS_KEY: z.string().min(1),
  CORS_ORIGINS: csv,
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(65_536),
  ADMIN_TOKEN: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters'),
  INTERNAL_SECRET: internalSecretSetting('INTERNAL_SECRET'),
  /** During a rotation: the previous secret, still accepted on `/internal/*` (requests are signed with INTERNAL_SECRET). */
  INTERNAL_SECRET_PREVIOUS: internalSecretSetting('INTERNAL_SECRET_PREVIOUS').optional(),
  DEFAULT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  DEFAULT_CONCURRENT_PREDICTIONS: z.coerce.number().int().min(1).max(10_000).default(8),
  /** Only loopback (127/8, ::1, localhost): private, link-local and metadata addresses are refused regardless. */
  ALLOW_LOOPBACK_WEBHOOKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  DOH_URL: z.url({ protocol: /^https?$/ }).default('https://cloudflare-dns.com/dns-query'),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default(DEFAULT_WEBHOOK_RETRY_SCHEDULE)
    .transform((s, ctx) => {
      const delays = s.split(',').map((d) => parseDurationSeconds(d.trim()));
      if (delays.some((d) => d === null)) {
        ctx.addIssue({ code: 'custom', message: 'WEBHOOK_RETRY_SCHEDULE must be comma-separated durations like "5s,5m,2h"' });
        return z.NEVER;
      }
      return delays as number[];
    }),
  /** Seconds a fleet lease lives without a heartbeat; an expired lease's job is queued again as the next attempt. */
  LEASE_TTL_S: z.coerce.number().int().min(2).max(600).default(30),
  /** Seconds between the heartbeats a backend is told to send (well under LEASE_TTL_S). */
  LEASE_HEARTBEAT_S: z.coerce.number().int().min(1).max(300).default(5),
  /** Bearer token of `GET /internal/fleet/backlog` (KEDA's metrics-api scaler). */
  FLEET_METRICS_TOKEN: z.string().min(16, 'FLEET_METRICS_TOKEN must be at least 16 characters'),
  /** Seconds `POST /v1/images/generations` waits before it cancels the prediction and answers 503 (default 60). */
  OPENAI_WAIT_S: z.coerce.number().int().min(1).max(60).default(60),
  /** Open SSE streams (`/v1/predictions/{id}/events`) per API key; more answer 429 `quota-exceeded`. */
  MAX_SSE_STREAMS_PER_KEY: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Seconds between SSE heartbeats (a comment line); each also re-reads the prediction so a stream whose terminal event was lost still ends. */
  SSE_HEARTBEAT_S: z.coerce.number().int().min(1).max(120).default(15),
  /** Catalogue ids the backends serve (comma-separated); `/v1/models` lists these and creates accept only these. */
  SERVED_MODELS: csv.pipe(
    z
      .array(
        z.string().refine((id) => findModel(id) !== undefined, {
          error: (issue) => `SERVED_MODELS names ${String(issue.input)}, which is not in the model catalogue (shared/models.ts)`,
        }),
      )
      .min(1, 'SERVED_MODELS must name at least one model')
      .refine((ids) => new Set(ids).size === ids.length, 'SERVED_MODELS names a model twice'),
  ),
});
export type EdgeConfig = z.infer<typeof EdgeConfig>;

const cache = new WeakMap<object, EdgeConfig>();

/**
 * Parses the configuration from the bindings (memoized per env object).
 * @throws Error naming every bad setting; a misconfigured Worker answers 500 instead of guessing.
 */
export function configFrom(env: Env): EdgeConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = EdgeConfig.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}
