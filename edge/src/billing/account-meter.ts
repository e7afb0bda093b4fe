/**
 * One Durable Object per account (SQLite-backed): the serialisation point for credits and rate limits.
 * Reserve, commit and release are atomic here (each runs without an `await` between check and write), and
 * every movement is also queued as a ledger row in a local outbox that is flushed to D1's append-only
 * `credit_ledger` (`INSERT OR IGNORE` on the entry id and on (prediction, kind), so a re-flush never
 * duplicates). Balance here always equals the sum of the D1 ledger once the outbox is empty.
 *
 * Ledger rows per prediction: `reserve` (credits −R, amount R), then either `commit` (credits 0, amount C:
 * the hold becomes a charge) plus `release` (credits +(R−C)), or only `release` (credits +R). So
 * reserved = committed + released for every settled prediction.
 * @module
 */
import { DurableObject } from 'cloudflare:workers';
import { configFrom } from '../config.js';
import { edgeLogger } from '../logging.js';
import { countRequest, type WindowState } from './rate-window.js';
import {
  CommitRequest,
  HitRequest,
  ReleaseRequest,
  ReserveRequest,
  SetLimitsRequest,
  TopUpRequest,
  type HitResult,
  type MeterSnapshot,
  type RateLimits,
  type ReserveResult,
  StreamLeaseRequest,
  type SettleResult,
  type StreamLeaseResult,
  type TopUpResult,
} from './rpc.js';

/** Retry delay for a ledger flush that failed (D1 unreachable). */
const FLUSH_RETRY_MS = 5_000;
const WINDOW_S = 60;

type LedgerKind = 'topup' | 'reserve' | 'commit' | 'release';

interface HoldRow extends Record<string, SqlStorageValue> {
  prediction_id: string;
  key_id: string;
  reserved: number;
  per_image: number;
  state: string;
}

interface OutboxRow extends Record<string, SqlStorageValue> {
  seq: number;
  entry_id: string;
  account_id: string;
  kind: string;
  credits: number;
  amount: number | null;
  prediction_id: string | null;
  key_id: string | null;
  note: string | null;
  created_at: string;
}

export class AccountMeter extends DurableObject<Env> {
  #sql: SqlStorage;
  #ready: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS holds (prediction_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, reserved INTEGER NOT NULL,
        per_image INTEGER NOT NULL, state TEXT NOT NULL, committed INTEGER NOT NULL DEFAULT 0, released INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX IF NOT EXISTS holds_open ON holds(state, key_id);
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry_id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, kind TEXT NOT NULL, credits INTEGER NOT NULL,
        amount INTEGER, prediction_id TEXT, key_id TEXT, note TEXT, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS rate_windows (key_id TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS stream_leases (lease_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS topup_keys (idem_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, created_at TEXT NOT NULL);
    `);
  }

  #meta(k: string): string | null {
    const rows = this.#sql.exec<{ v: string }>('SELECT v FROM meta WHERE k = ?', k).toArray();
    return rows[0]?.v ?? null;
  }

  #setMeta(k: string, v: string): void {
    this.#sql.exec('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v', k, v);
  }

  /** On first use, starts from the account's D1 ledger (rows written before this object existed). */
  async #init(accountId: string): Promise<void> {
    this.#ready ??= this.ctx.blockConcurrencyWhile(async () => {
      if (this.#meta('balance') !== null) return;
      const row = await this.env.DB.prepare('SELECT COALESCE(SUM(credits), 0) AS balance FROM credit_ledger WHERE account_id = ?')
        .bind(accountId)
        .first<{ balance: number }>();
      this.#setMeta('account_id', accountId);
      this.#setMeta('balance', String(row?.balance ?? 0));
    });
    try {
      await this.#ready;
    } catch (err) {
      this.#ready = null;
      throw err;
    }
  }

  #balance(): number {
    return Number(this.#meta('balance') ?? 0);
  }

  /** Adds `delta` to the balance and queues the ledger row: one synchronous step, so it is atomic. */
  #move(
    accountId: string,
    kind: LedgerKind,
    delta: number,
    amount: number | null,
    predictionId: string | null,
    keyId: string | null,
    note: string | null,
  ): void {
    this.#setMeta('balance', String(this.#balance() + delta));
    this.#sql.exec(
      'INSERT INTO outbox (entry_id, account_id, kind, credits, amount, prediction_id, key_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      `led_${crypto.randomUUID()}`,
      accountId,
      kind,
      delta,
      amount,
      predictionId,
      keyId,
      note,
      new Date().toISOString(),
    );
  }

  /** Writes queued ledger rows to D1; on failure keeps them and retries from the alarm. */
  async #flush(): Promise<void> {
    const rows = this.#sql.exec<OutboxRow>('SELECT * FROM outbox ORDER BY seq').toArray();
    if (rows.length === 0) return;
    try {
      await this.env.DB.batch(
        rows.map((r) =>
          this.env.DB.prepare(
            'INSERT OR IGNORE INTO credit_ledger (entry_id, account_id, kind, credits, amount, prediction_id, key_id, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          ).bind(r.entry_id, r.account_id, r.kind, r.credits, r.amount, r.prediction_id, r.key_id, r.note, r.created_at),
        ),
      );
      for (const r of rows) this.#sql.exec('DELETE FROM outbox WHERE entry_id = ?', r.entry_id);
    } catch (err) {
      edgeLogger.error('ledger flush failed; retrying', { error: err });
      await this.ctx.storage.setAlarm(Date.now() + FLUSH_RETRY_MS);
    }
  }

  override async alarm(): Promise<void> {
    await this.#flush();
  }

  #limits(): { limits: RateLimits; source: 'account' | 'default' } {
    const own = this.#meta('limits');
    if (own !== null) return { limits: JSON.parse(own) as RateLimits, source: 'account' };
    const config = configFrom(this.env);
    return {
      limits: { requests_per_minute: config.DEFAULT_REQUESTS_PER_MINUTE, concurrent_predictions: config.DEFAULT_CONCURRENT_PREDICTIONS },
      source: 'default',
    };
  }

  #activeFor(keyId: string): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds WHERE state = 'open' AND key_id = ?", keyId).one().n;
  }

  /**
   * Holds `credits` for a prediction if the balance covers them and the key is under its concurrency limit.
   * Reserving the same prediction again is a no-op that reports success.
   */
  async reserve(input: ReserveRequest): Promise<ReserveResult> {
    const req = ReserveRequest.parse(input);
    await this.#init(req.accountId);
    const existing = this.#sql.exec<HoldRow>('SELECT * FROM holds WHERE prediction_id = ?', req.predictionId).toArray();
    if (existing.length > 0) return { ok: true, balance: this.#balance(), duplicate: true };
    const limit = this.#limits().limits.concurrent_predictions;
    const active = this.#activeFor(req.keyId);
    if (active >= limit) return { ok: false, reason: 'concurrency', limit, active };
    const balance = this.#balance();
    if (balance < req.credits) return { ok: false, reason: 'insufficient-credits', balance, needed: req.credits };
    this.#sql.exec(
      "INSERT INTO holds (prediction_id, key_id, reserved, per_image, state) VALUES (?, ?, ?, ?, 'open')",
      req.predictionId,
      req.keyId,
      req.credits,
      req.perImage,
    );
    this.#move(req.accountId, 'reserve', -req.credits, req.credits, req.predictionId, req.keyId, null);
    await this.#flush();
    return { ok: true, balance: this.#balance(), duplicate: false };
  }

  #settle(accountId: string, predictionId: string, charge: (hold: HoldRow) => number): SettleResult {
    const hold = this.#sql.exec<HoldRow>('SELECT * FROM holds WHERE prediction_id = ?', predictionId).toArray()[0];
    if (!hold) return { outcome: 'none', committed: 0, released: 0 };
    if (hold.state !== 'open') return { outcome: 'already-closed', committed: 0, released: 0 };
    const committed = Math.min(hold.reserved, Math.max(0, charge(hold)));
    const released = hold.reserved - committed;
    this.#sql.exec(
      "UPDATE holds SET state = 'closed', committed = ?, released = ? WHERE prediction_id = ?",
      committed,
      released,
      predictionId,
    );
    if (committed > 0) this.#move(accountId, 'commit', 0, committed, predictionId, hold.key_id, null);
    if (released > 0) this.#move(accountId, 'release', released, released, predictionId, hold.key_id, null);
    return { outcome: 'closed', committed, released };
  }

  /** Charges the images actually produced (per-image price × images, at most the hold) and releases the rest. */
  async commit(input: CommitRequest): Promise<SettleResult> {
    const req = CommitRequest.parse(input);
    await this.#init(req.accountId);
    const result = this.#settle(req.accountId, req.predictionId, (hold) => hold.per_image * req.images);
    await this.#flush();
    return result;
  }

  /** Returns the whole hold to the balance (failure, cancel, abort, or a create that could not be stored). */
  async release(input: ReleaseRequest): Promise<SettleResult> {
    const req = ReleaseRequest.parse(input);
    await this.#init(req.accountId);
    const result = this.#settle(req.accountId, req.predictionId, () => 0);
    await this.#flush();
    return result;
  }

  /**
   * Adds credits (a `topup` ledger row). With an idempotency key the top-up happens once: a repeat with the same
   * key and request adds nothing (`replayed`), the same key with another amount or note is refused (`mismatch`).
   */
  async topUp(input: TopUpRequest): Promise<TopUpResult> {
    const req = TopUpRequest.parse(input);
    await this.#init(req.accountId);
    if (req.idempotencyKey !== undefined) {
      const fingerprint = JSON.stringify([req.credits, req.note]);
      const seen = this.#sql
        .exec<{ fingerprint: string }>('SELECT fingerprint FROM topup_keys WHERE idem_key = ?', req.idempotencyKey)
        .toArray()[0];
      if (seen) return { outcome: seen.fingerprint === fingerprint ? 'replayed' : 'mismatch', balance: this.#balance() };
      this.#sql.exec(
        'INSERT INTO topup_keys (idem_key, fingerprint, created_at) VALUES (?, ?, ?)',
        req.idempotencyKey,
        fingerprint,
        new Date().toISOString(),
      );
    }
    this.#move(req.accountId, 'topup', req.credits, req.credits, null, null, req.note);
    await this.#flush();
    return { outcome: 'applied', balance: this.#balance() };
  }

  /** Counts one request of `keyId` against its per-minute window. */
  async hit(input: HitRequest): Promise<HitResult> {
    const req = HitRequest.parse(input);
    await this.#init(req.accountId);
    const { limits } = this.#limits();
    const row = this.#sql
      .exec<{ start: number; count: number }>('SELECT start, count FROM rate_windows WHERE key_id = ?', req.keyId)
      .toArray()[0];
    const previous: WindowState | null = row ? { start: row.start, count: row.count } : null;
    const decision = countRequest(previous, Date.now() / 1000, limits.requests_per_minute, WINDOW_S);
    this.#sql.exec(
      'INSERT INTO rate_windows (key_id, start, count) VALUES (?, ?, ?) ON CONFLICT(key_id) DO UPDATE SET start = excluded.start, count = excluded.count',
      req.keyId,
      decision.next.start,
      decision.next.count,
    );
    return {
      allowed: decision.allowed,
      limit: limits.requests_per_minute,
      remaining: decision.remaining,
      resetSeconds: decision.resetSeconds,
      windowSeconds: WINDOW_S,
      concurrency: { limit: limits.concurrent_predictions, active: this.#activeFor(req.keyId) },
    };
  }

  /**
   * Takes or renews a lease on an open SSE stream of a key. A renewal always succeeds; a new lease only while the
   * key holds fewer than `max` unexpired leases. Leases of streams that died without closing expire by themselves.
   */
  async leaseStream(input: StreamLeaseRequest): Promise<StreamLeaseResult> {
    const req = StreamLeaseRequest.parse(input);
    const now = Date.now();
    this.#sql.exec('DELETE FROM stream_leases WHERE expires_at <= ?', now);
    const held = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM stream_leases WHERE lease_id = ?', req.leaseId).one().n > 0;
    const open = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM stream_leases WHERE key_id = ?', req.keyId).one().n;
    if (!held && open >= req.max) return { ok: false, open };
    this.#sql.exec(
      'INSERT INTO stream_leases (lease_id, key_id, expires_at) VALUES (?, ?, ?) ON CONFLICT(lease_id) DO UPDATE SET expires_at = excluded.expires_at',
      req.leaseId,
      req.keyId,
      now + req.ttlMs,
    );
    return { ok: true, open: held ? open : open + 1 };
  }

  /** Ends an SSE stream's lease. */
  async releaseStream(leaseId: string): Promise<void> {
    this.#sql.exec('DELETE FROM stream_leases WHERE lease_id = ?', leaseId);
  }

  /** Sets the account's own limits (null: back to the configured defaults). */
  async setLimits(input: SetLimitsRequest): Promise<MeterSnapshot> {
    const req = SetLimitsRequest.parse(input);
    await this.#init(req.accountId);
    if (req.limits === null) this.#sql.exec("DELETE FROM meta WHERE k = 'limits'");
    else this.#setMeta('limits', JSON.stringify(req.limits));
    return this.snapshot(req.accountId);
  }

  /** Balance, holds and limits, after flushing the outbox. */
  async snapshot(accountId: string): Promise<MeterSnapshot> {
    await this.#init(accountId);
    await this.#flush();
    const holds = this.#sql
      .exec<{ n: number; reserved: number }>("SELECT COUNT(*) AS n, COALESCE(SUM(reserved), 0) AS reserved FROM holds WHERE state = 'open'")
      .one();
    const pending = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n;
    const { limits, source } = this.#limits();
    return {
      balance: this.#balance(),
      reserved: holds.reserved,
      openHolds: holds.n,
      pendingLedgerRows: pending,
      limits,
      limitsSource: source,
    };
  }
}

/** The meter of an account. */
export function meterOf(env: Pick<Env, 'ACCOUNT_METER'>, accountId: string): DurableObjectStub<AccountMeter> {
  const ns = env.ACCOUNT_METER;
  return ns.get(ns.idFromName(accountId));
}
