/**
 * One Durable Object per prediction (SQLite-backed): fans status and progress out to SSE subscribers, wakes
 * `Prefer: wait` requests when the prediction ends. It only signals: it holds no truth (D1 does) and no domain
 * behaviour (the Cancel-After backstop is the reaper's, `predictions/deadline.ts`). It remembers the last status
 * and progress so that a subscriber arriving late still sees where the prediction is.
 * @module
 */
import { DurableObject } from 'cloudflare:workers';
import { isTerminal } from '../../../shared/prediction.js';
import type { ChannelEvent } from './events.js';

const encoder = new TextEncoder();
/** How long a finished channel keeps its state before deleting it. */
const RETAIN_AFTER_END_MS = 60 * 60 * 1000;

export class PredictionChannel extends DurableObject<Env> {
  #streams = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  #waiters = new Set<() => void>();

  #last(): { status?: ChannelEvent; progress?: ChannelEvent } {
    return {
      status: this.ctx.storage.kv.get<ChannelEvent>('status'),
      progress: this.ctx.storage.kv.get<ChannelEvent>('progress'),
    };
  }

  #ended(): boolean {
    const status = this.#last().status;
    return status?.type === 'status' && isTerminal(status.status);
  }

  /** Records an event and forwards it to every subscriber; a terminal status closes the streams. */
  async publish(event: ChannelEvent): Promise<void> {
    if (this.#ended()) return;
    this.ctx.storage.kv.put(event.type, event);
    const line = encoder.encode(`${JSON.stringify(event)}\n`);
    const ending = event.type === 'status' && isTerminal(event.status);
    await Promise.all(
      [...this.#streams].map(async (writer) => {
        try {
          await writer.write(line);
          if (ending) await writer.close();
        } catch {
          this.#streams.delete(writer);
        }
      }),
    );
    if (ending) {
      this.#streams.clear();
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
      await this.ctx.storage.setAlarm(Date.now() + RETAIN_AFTER_END_MS);
    }
  }

  /**
   * Resolves when the prediction reaches a terminal status, or after `timeoutMs`.
   * @returns whether it ended
   */
  async waitForEnd(timeoutMs: number): Promise<boolean> {
    if (this.#ended()) return true;
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** NDJSON stream of events: the last known status and progress first, then live events until the end. */
  override async fetch(): Promise<Response> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const { status, progress } = this.#last();
    for (const event of [status, progress]) {
      if (event) void writer.write(encoder.encode(`${JSON.stringify(event)}\n`));
    }
    if (this.#ended()) void writer.close();
    else this.#streams.add(writer);
    return new Response(readable, { headers: { 'content-type': 'application/x-ndjson' } });
  }

  /** A finished channel drops its state once the retention time has passed. */
  override async alarm(): Promise<void> {
    for (const writer of this.#streams) await writer.close().catch(() => undefined);
    this.#streams.clear();
    await this.ctx.storage.deleteAll();
  }
}

/** The channel stub of a prediction. */
export function channelOf(env: Pick<Env, 'PREDICTION_CHANNEL'>, predictionId: string): DurableObjectStub<PredictionChannel> {
  const ns = env.PREDICTION_CHANNEL;
  return ns.get(ns.idFromName(predictionId));
}
