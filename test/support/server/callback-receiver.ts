/**
 * A real HTTP callback receiver on 127.0.0.1 for tests: verifies the internal signature of every POST, records
 * the events it acknowledged, and can be made flaky per request (500, 429 with Retry-After, dropped socket).
 * @module
 */
import { BackendEvent } from '../../../shared/internal.js';
import { verifyInternalRequest } from '../../../shared/signing.js';
import { startHttpReceiver } from '../http-receiver.js';

/** What the receiver does with one request. */
export type ReceiverAction = 'ok' | 'fail-500' | 'busy-429' | 'drop-socket' | 'reject-400';

export interface CallbackReceiver {
  url: string;
  /** Events acknowledged with 2xx, in arrival order. */
  readonly events: BackendEvent[];
  /** Every request seen: verified signature or not, and the action taken. */
  readonly requests: Array<{ verified: boolean; action: ReceiverAction; type: string | undefined; at: number }>;
  /** Decides the action for the n-th request (0-based); default always 'ok'. */
  plan: (n: number, event: BackendEvent | undefined) => ReceiverAction;
  /** Resolves when an event satisfying `pred` has been acknowledged. */
  waitFor(pred: (e: BackendEvent) => boolean, timeoutMs?: number): Promise<BackendEvent>;
  close(): Promise<void>;
}

export async function startCallbackReceiver(secret: string): Promise<CallbackReceiver> {
  const events: BackendEvent[] = [];
  const requests: CallbackReceiver['requests'] = [];
  const waiters: Array<() => void> = [];
  const server = await startHttpReceiver(async (req, body, res) => {
    const headers = { get: (n: string) => (req.headers[n.toLowerCase()] as string | undefined) ?? null };
    const verified = (await verifyInternalRequest(secret, req.method ?? '', req.url ?? '', body, headers)) === null;
    const parsed = BackendEvent.safeParse(safeJson(body));
    const event = parsed.success ? parsed.data : undefined;
    const action: ReceiverAction = verified && event ? receiver.plan(requests.length, event) : 'reject-400';
    requests.push({ verified, action, type: event?.type, at: Date.now() });
    switch (action) {
      case 'ok':
        events.push(event!);
        res.writeHead(204).end();
        for (const w of waiters.splice(0)) w();
        return;
      case 'fail-500':
        res.writeHead(500).end('boom');
        return;
      case 'busy-429':
        res.writeHead(429, { 'retry-after': '0' }).end();
        return;
      case 'drop-socket':
        req.socket.destroy();
        return;
      case 'reject-400':
        res.writeHead(verified ? 400 : 401).end();
        return;
    }
  });
  const receiver: CallbackReceiver = {
    url: `${server.origin}/internal/backend-events?shard=1`,
    events,
    requests,
    plan: () => 'ok',
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching callback event within ${timeoutMs} ms (got ${events.map((e) => e.type).join(', ')})`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    close: () => server.close(),
  };
  return receiver;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
