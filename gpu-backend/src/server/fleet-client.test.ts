import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseRequest } from '../../../shared/fleet.js';
import { startFleetEdge, type FleetEdge } from '../../../test/support/server/fleet-edge.js';
import { FleetClient, FleetRequestError } from './fleet-client.js';

const SECRET = 'fleet-client-test-secret-0123456789abcdef';
const lease: LeaseRequest = { worker_id: 'client-test', model: 'sd15-tiny-demo', capacity: 2, wait_ms: 0 };

async function failure(p: Promise<unknown>): Promise<FleetRequestError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FleetRequestError) return err;
    throw err;
  }
  throw new Error('the request succeeded');
}

describe('fleet client against the strict fleet edge', () => {
  let edge: FleetEdge;
  beforeAll(async () => {
    edge = await startFleetEdge({ secret: SECRET, leaseTtlMs: 1_000, heartbeatMs: 200 });
  });
  afterAll(() => edge.close());

  it('signs its requests and parses the answers with the shared schemas', async () => {
    const client = new FleetClient({ edgeUrl: `${edge.url}/ignored/base/path`, secret: SECRET, timeoutMs: 2_000 });
    expect(await client.lease(lease)).toEqual({ jobs: [], lease_ttl_ms: 1_000, heartbeat_ms: 200 });
    expect(
      await client.heartbeat({ worker_id: 'client-test', leases: [{ prediction_id: 'pred_not_leased_anywhere', attempt: 1 }] }),
    ).toEqual({
      leases: [{ prediction_id: 'pred_not_leased_anywhere', attempt: 1, action: 'lost', expires_at: null }],
    });
    expect(await client.release({ worker_id: 'client-test', leases: [], reason: 'draining' })).toEqual({ released: 0 });
    expect(edge.requests.map((r) => [r.endpoint, r.status])).toEqual([
      ['lease', 200],
      ['heartbeat', 200],
      ['release', 200],
    ]);
  });

  it('calls a refused signature or a request that breaks the protocol permanent, an outage transient', async () => {
    const wrongSecret = new FleetClient({ edgeUrl: edge.url, secret: 'another-secret-0123456789abcdef0123', timeoutMs: 2_000 });
    expect(await failure(wrongSecret.lease(lease))).toMatchObject({ endpoint: 'lease', status: 401, transient: false });

    const client = new FleetClient({ edgeUrl: edge.url, secret: SECRET, timeoutMs: 2_000 });
    expect(await failure(client.lease({ ...lease, capacity: 0 }))).toMatchObject({ status: 422, transient: false });
    expect(edge.requests.at(-1)?.violation).toMatch(/^\/capacity: /);

    await edge.setMode('503');
    expect(await failure(client.heartbeat({ worker_id: 'client-test', leases: [] }))).toMatchObject({
      endpoint: 'heartbeat',
      status: 503,
      transient: true,
    });
    await edge.setMode('refused');
    expect(await failure(client.release({ worker_id: 'client-test', leases: [], reason: 'failed' }))).toMatchObject({
      endpoint: 'release',
      status: undefined,
      transient: true,
    });
    await edge.setMode('up');
    expect((await client.lease(lease)).jobs).toEqual([]);
  });

  it('refuses an answer that breaks the protocol instead of acting on it', async () => {
    const server = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jobs: 'none', lease_ttl_ms: 1, heartbeat_ms: 1 })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new FleetClient({
        edgeUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        secret: SECRET,
        timeoutMs: 2_000,
      });
      const err = await failure(client.lease(lease));
      expect(err).toMatchObject({ status: 200, transient: true });
      expect(err.message).toMatch(/breaks the protocol at \/jobs/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
