import { describe, expect, it } from 'vitest';
import { countRequest } from './rate-window.js';

describe('countRequest', () => {
  it('counts requests in a window aligned to the window length and refuses above the limit', () => {
    let state = null;
    const decisions = [];
    for (let i = 0; i < 4; i++) {
      const d = countRequest(state, 125, 3, 60);
      decisions.push([d.allowed, d.remaining, d.resetSeconds]);
      state = d.next;
    }
    expect(decisions).toEqual([
      [true, 2, 55],
      [true, 1, 55],
      [true, 0, 55],
      [false, 0, 55],
    ]);
    expect(state).toEqual({ start: 120, count: 3 });
  });

  it('starts afresh in the next window', () => {
    const d = countRequest({ start: 120, count: 3 }, 180.5, 3, 60);
    expect(d).toMatchObject({ allowed: true, remaining: 2, next: { start: 180, count: 1 }, resetSeconds: 60 });
  });
});
