import { describe, expect, it } from 'vitest';
import { BatchQueue, type QueueEntry } from './batch-queue.js';

interface E extends QueueEntry {
  name: string;
}
const entry = (name: string, key: string, size = 1, enqueuedAt = Date.now()): E => ({ name, key, size, enqueuedAt });

describe('BatchQueue', () => {
  it('refuses entries beyond its capacity', () => {
    const q = new BatchQueue<E>({ capacity: 2, maxSize: 4, maxWaitMs: 0 });
    expect(q.push(entry('a', 'k'))).toBe(true);
    expect(q.push(entry('b', 'k'))).toBe(true);
    expect(q.isFull).toBe(true);
    expect(q.push(entry('c', 'k'))).toBe(false);
    expect(q.length).toBe(2);
  });

  it('groups compatible entries in arrival order and leaves others waiting', async () => {
    const q = new BatchQueue<E>({ capacity: 10, maxSize: 4, maxWaitMs: 0 });
    for (const [n, k] of [
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'x'],
      ['d', 'x'],
    ] as const)
      q.push(entry(n, k));
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['a', 'c', 'd']);
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['b']);
  });

  it('never exceeds maxSize units but runs a single oversized entry alone', async () => {
    const q = new BatchQueue<E>({ capacity: 10, maxSize: 4, maxWaitMs: 0 });
    q.push(entry('a', 'x', 3));
    q.push(entry('b', 'x', 2));
    q.push(entry('c', 'x', 1));
    q.push(entry('d', 'x', 6));
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['a', 'c']);
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['b']);
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['d']);
  });

  it('waits up to maxWaitMs for compatible entries to fill a batch', async () => {
    const q = new BatchQueue<E>({ capacity: 10, maxSize: 2, maxWaitMs: 200 });
    q.push(entry('a', 'x'));
    const taking = q.takeBatch();
    setTimeout(() => q.push(entry('b', 'x')), 20);
    const started = Date.now();
    expect((await taking)!.map((e) => e.name)).toEqual(['a', 'b']);
    expect(Date.now() - started).toBeLessThan(150);
  });

  it('hands out a partial batch once the oldest entry has waited maxWaitMs', async () => {
    const q = new BatchQueue<E>({ capacity: 10, maxSize: 4, maxWaitMs: 40 });
    const started = Date.now();
    q.push(entry('a', 'x', 1, started));
    expect((await q.takeBatch())!.map((e) => e.name)).toEqual(['a']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(39);
  });

  it('forgets removed entries and returns the rest on close', async () => {
    const q = new BatchQueue<E>({ capacity: 10, maxSize: 4, maxWaitMs: 0 });
    const a = entry('a', 'x');
    q.push(a);
    q.push(entry('b', 'y'));
    expect(q.remove(a)).toBe(true);
    expect(q.remove(a)).toBe(false);
    const waiting = q.takeBatch();
    expect((await waiting)!.map((e) => e.name)).toEqual(['b']);
    const next = q.takeBatch();
    q.push(entry('c', 'z', 1, Date.now() + 60_000));
    expect(q.close().map((e) => e.name)).toEqual(['c']);
    expect(await next).toBeNull();
    expect(q.push(entry('d', 'z'))).toBe(false);
  });
});
