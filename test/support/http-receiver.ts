/**
 * The HTTP plumbing of the tests' receivers (the backend-callback receiver and the customer-webhook receiver): a
 * real server on 127.0.0.1 that reads each request's whole body and hands it to the receiver's handler, and closes
 * with its open connections.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Handles one request whose body has been read; a rejection answers 500 with the error. */
export type ReceiverHandler = (req: IncomingMessage, body: string, res: ServerResponse) => void | Promise<void>;

/** A listening receiver server. */
export interface HttpReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts a server on 127.0.0.1 that passes every request, body read, to `handle`.
 * @param port a fixed port, or 0 (default) for any free one
 */
export async function startHttpReceiver(handle: ReceiverHandler, port = 0): Promise<HttpReceiver> {
  const server = createServer((req, res) => {
    void (async () => handle(req, await readBody(req), res))().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
