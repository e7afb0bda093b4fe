/**
 * Admitting a webhook URL when a prediction is created: the SSRF guard (422 when refused), then re-enabling
 * the endpoint for the account if a 410 had disabled it (naming it again is the client's way to say it is back).
 * @module
 */
import { configFrom } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { enableEndpoint } from './endpoints.js';
import { dohResolver, type HostResolver } from './resolver.js';
import { checkWebhookUrl } from './url-guard.js';

/**
 * Checks and admits a prediction's webhook URL.
 * @throws ApiError 422 `validation-failed` (pointer `/webhook`) when the URL may not be called
 */
export async function admitWebhook(env: Env, accountId: string, url: string, resolver?: HostResolver): Promise<void> {
  const config = configFrom(env);
  const verdict = await checkWebhookUrl(url, {
    allowLoopback: config.ALLOW_LOOPBACK_WEBHOOKS,
    resolver: resolver ?? dohResolver(config.DOH_URL),
  });
  if (!verdict.ok) {
    const message = verdict.transient ? `the host could not be checked (${verdict.reason}); retry later` : verdict.reason;
    throw new ApiError(422, 'validation-failed', 'The webhook URL is not allowed', { errors: [{ pointer: '/webhook', message }] });
  }
  await enableEndpoint(env.DB, accountId, url);
}
