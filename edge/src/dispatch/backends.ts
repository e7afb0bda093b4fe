/**
 * Choosing GPU backends: every configured backend's `GET /health-check` is read (signed, short timeout, cached
 * for a few seconds per isolate); backends that are not READY/BUSY, do not serve the model or do not answer are
 * skipped; READY ones come first, then the least loaded.
 * @module
 */
import { BackendHealth } from '../../../shared/internal.js';
import { signInternalRequest } from '../../../shared/signing.js';

const HEALTH_TTL_MS = 3_000;
const HEALTH_TIMEOUT_MS = 2_000;
const healthCache = new Map<string, { at: number; health: BackendHealth | null }>();

/** Reads one backend's health; null when it does not answer well. */
export async function fetchHealth(baseUrl: string, secret: string, nowMs: number = Date.now()): Promise<BackendHealth | null> {
  const cached = healthCache.get(baseUrl);
  if (cached && nowMs - cached.at < HEALTH_TTL_MS) return cached.health;
  let health: BackendHealth | null = null;
  try {
    const headers = await signInternalRequest(secret, 'GET', '/health-check', '');
    const res = await fetch(`${baseUrl}/health-check`, { headers, signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const parsed = BackendHealth.safeParse(res.ok ? await res.json() : null);
    health = parsed.success ? parsed.data : null;
  } catch {
    health = null;
  }
  healthCache.set(baseUrl, { at: nowMs, health });
  return health;
}

/** Forgets cached health (after a backend refused a job, its state has changed). */
export function forgetHealth(baseUrl?: string): void {
  if (baseUrl === undefined) healthCache.clear();
  else healthCache.delete(baseUrl);
}

function load(h: BackendHealth): number {
  return h.queue_capacity > 0 ? (h.queue_depth + h.running) / h.queue_capacity : h.queue_depth + h.running;
}

/**
 * Backends worth trying for `model`, best first.
 * @param backends base URLs from configuration
 */
export async function rankBackends(backends: readonly string[], model: string, secret: string): Promise<string[]> {
  const healths = await Promise.all(backends.map(async (url) => ({ url, health: await fetchHealth(url, secret) })));
  return healths
    .filter((b): b is { url: string; health: BackendHealth } => b.health !== null)
    .filter(({ health }) => (health.status === 'READY' || health.status === 'BUSY') && (health.models.length === 0 || health.models.includes(model)))
    .toSorted((a, b) => Number(b.health.status === 'READY') - Number(a.health.status === 'READY') || load(a.health) - load(b.health))
    .map(({ url }) => url);
}
