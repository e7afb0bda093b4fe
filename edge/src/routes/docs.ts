/**
 * `GET /openapi.json` (generated from the routes' zod schemas) and `GET /docs` (HTML reference).
 * @module
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../app-env.js';
import { renderDocsHtml } from '../docs/render-html.js';

/** Document metadata. */
export const openApiInfo = {
  openapi: '3.1.0',
  info: {
    title: 'DeepCache Image API',
    version: '1.0.0',
    description:
      'Pay-per-image Stable Diffusion accelerated by DeepCache. Errors are RFC 9457 problem documents (`application/problem+json`, stable `type` per `code`), except on the OpenAI-compatible route. Every response carries `x-request-id`.',
  },
} as const;

/** Registers the security schemes and mounts the document and the reference page on `app`. */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'API key: `Bearer sdk_…`',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminAuth', { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'fleetMetricsAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'FLEET_METRICS_TOKEN (backlog only)',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'internalSignature', {
    type: 'apiKey',
    in: 'header',
    name: 'x-internal-signature',
    description: 'HMAC-SHA256 over `<timestamp>.<METHOD>.<path>.<body>` with INTERNAL_SECRET, plus `x-internal-timestamp`',
  });
  app.doc31('/openapi.json', (c) => ({ ...openApiInfo, servers: [{ url: new URL(c.req.url).origin }] }));
  app.get('/docs', (c) => c.html(renderDocsHtml(app.getOpenAPI31Document(openApiInfo) as Parameters<typeof renderDocsHtml>[0])));
}
