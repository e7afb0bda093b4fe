/** Test-only bindings and values provided by globalSetup. */
import type { D1Migration } from '@cloudflare/vitest-plugin';

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** Base URL of the loopback fake backend that uploads outputs and signs events (control under `/_test`). */
      TEST_BACKEND: string;
      /** Loopback service running @apidevtools/swagger-parser in Node (`POST /validate`). */
      TEST_OPENAPI_VALIDATOR: string;
      /** Loopback webhook receiver (`/hooks/:name`, control under `/_test/hooks/:name`). */
      TEST_WEBHOOK_RECEIVER: string;
      /** Loopback DNS-over-HTTPS server (`/dns-query`, zone control at `/_test/zone`). */
      TEST_DOH_SERVER: string;
    }
  }
}

declare module 'vitest' {
  interface ProvidedContext {
    s3Endpoint: string;
    backend: string;
    openApiValidator: string;
    webhookReceiver: string;
    dohServer: string;
  }
}
