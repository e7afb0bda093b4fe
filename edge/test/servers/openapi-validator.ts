/**
 * A loopback service that validates OpenAPI documents with @apidevtools/swagger-parser in Node (the parser is
 * CommonJS requiring an ESM-only package and does not load inside workerd). `POST /validate` with the document
 * → `{valid: true}` or `{valid: false, message}`.
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';

/** Starts the validator on 127.0.0.1 (port 0). */
export async function startOpenApiValidator(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let result: { valid: boolean; message?: string };
      try {
        await SwaggerParser.validate(JSON.parse(Buffer.concat(chunks).toString('utf8')) as never);
        result = { valid: true };
      } catch (err) {
        result = { valid: false, message: err instanceof Error ? err.message : String(err) };
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
