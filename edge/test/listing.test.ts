import { describe, expect, it } from 'vitest';
import type { Prediction } from '../../shared/prediction.js';
import { auth, call, createPrediction, newCustomer } from './helpers.js';

interface Page {
  results: Prediction[];
  next_cursor: string | null;
  next: string | null;
}

describe('GET /v1/predictions', () => {
  it('pages through only the caller’s predictions, newest first, without gaps or repeats', async () => {
    const me = await newCustomer('me');
    const someoneElse = await newCustomer('else');
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createPrediction(me.key)).prediction.id);
    await createPrediction(someoneElse.key);

    const seen: Prediction[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(`/v1/predictions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, auth(me.key));
      expect(res.status).toBe(200);
      const page = await res.json<Page>();
      seen.push(...page.results);
      cursor = page.next_cursor;
      if (cursor) expect(page.next).toContain(`cursor=${cursor}`);
      pages++;
    } while (cursor && pages < 10);

    expect(pages).toBe(3);
    expect(seen.map((p) => p.id).toSorted()).toEqual(created.toSorted());
    const times = seen.map((p) => p.created_at);
    expect(times).toEqual(times.toSorted().reverse());
    expect(seen[0]?.id).toBe(created.at(-1));
  });

  it('returns 400 problem for a cursor it did not issue', async () => {
    const { key } = await newCustomer();
    const res = await call('/v1/predictions?cursor=bm90LWEtY3Vyc29y', auth(key));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: [{ pointer: '/query/cursor' }] });
  });

  it('answers 404 problem when reading another account’s prediction', async () => {
    const owner = await newCustomer();
    const other = await newCustomer();
    const { prediction } = await createPrediction(owner.key);
    const res = await call(`/v1/predictions/${prediction.id}`, auth(other.key));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not-found', type: '/problems/not-found' });
  });
});
