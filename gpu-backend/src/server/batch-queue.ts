/**
 * A bounded FIFO queue that hands out batches of compatible entries (equal `key`), for dynamic batching:
 * a batch starts with the oldest entry, takes compatible entries in arrival order while their sizes fit in
 * `maxSize`, and waits at most `maxWaitMs` after the oldest entry arrived for more to join.
 * Knows nothing about pipelines; entries only carry a key, a size and an arrival time.
 * @module
 */

export interface QueueEntry {
  /** Entries with equal keys may share a batch. */
  readonly key: string;
  /** Units this entry adds to a batch (images). */
  readonly size: number;
  /** Arrival time, ms (same clock as `now`). */
  readonly enqueuedAt: number;
}

export interface BatchQueueOptions {
  /** Most entries waiting at once; `push` refuses beyond it. */
  capacity: number;
  /** Most units per batch; a single bigger entry still forms a batch on its own. */
  maxSize: number;
  /** Longest a batch waits, from its oldest entry's arrival, for compatible entries. */
  maxWaitMs: number;
  now?: () => number;
}

export class BatchQueue<T extends QueueEntry> {
  readonly #items: T[] = [];
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #now: () => number;

  readonly #options: BatchQueueOptions;

  constructor(options: BatchQueueOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get length(): number {
    return this.#items.length;
  }

  get capacity(): number {
    return this.#options.capacity;
  }

  get isFull(): boolean {
    return this.#items.length >= this.#options.capacity;
  }

  /** Adds an entry; false (and nothing added) when the queue is full or closed. */
  push(entry: T): boolean {
    if (this.#closed || this.isFull) return false;
    this.#items.push(entry);
    this.#notify();
    return true;
  }

  /** Removes a waiting entry; false when it is not in the queue (already taken or never added). */
  remove(entry: T): boolean {
    const at = this.#items.indexOf(entry);
    if (at < 0) return false;
    this.#items.splice(at, 1);
    this.#notify();
    return true;
  }

  /** Waiting entries, oldest first (a copy). */
  entries(): T[] {
    return [...this.#items];
  }

  /**
   * Resolves with the next batch (removed from the queue), or null once the queue is closed.
   * Only one caller should wait at a time (the single batch runner).
   */
  async takeBatch(): Promise<T[] | null> {
    for (;;) {
      if (this.#closed) return null;
      const head = this.#items[0];
      if (head === undefined) {
        await this.#waitForChange(undefined);
        continue;
      }
      const batch = this.#compatibleWith(head);
      const units = batch.reduce((n, e) => n + e.size, 0);
      const waitLeft = head.enqueuedAt + this.#options.maxWaitMs - this.#now();
      if (units >= this.#options.maxSize || waitLeft <= 0) {
        for (const e of batch) this.#items.splice(this.#items.indexOf(e), 1);
        return batch;
      }
      await this.#waitForChange(waitLeft);
    }
  }

  /** Stops handing out batches and returns every waiting entry (the queue is empty afterwards). */
  close(): T[] {
    this.#closed = true;
    const left = this.#items.splice(0, this.#items.length);
    this.#notify();
    return left;
  }

  #compatibleWith(head: T): T[] {
    const batch = [head];
    let units = head.size;
    for (const e of this.#items) {
      if (e === head || e.key !== head.key) continue;
      if (units + e.size > this.#options.maxSize) continue;
      batch.push(e);
      units += e.size;
    }
    return batch;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #waitForChange(timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, timeoutMs);
      }
    });
  }
}
