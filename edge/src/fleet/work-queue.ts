/**
 * One Durable Object per model (SQLite-backed, `idFromName(model)`): the model's backlog and the leases GPU
 * backends hold on it. It stores and signals only; D1 (the predictions' truth) and the lifecycle stay in the
 * Worker's routes, which call these RPC methods.
 *
 * - Backlog: (prediction, account, enqueue order, deadline). {@link WorkQueue.lease} hands it out round-robin
 *   across accounts (the account served least recently first, FIFO within an account), so one account's burst
 *   cannot starve the others; a lease request with nothing to take waits (long poll) until `enqueue` wakes it.
 * - Leases: (prediction, attempt, worker, expiry, last progress, pending action). A lease is created without an
 *   attempt; the lease route claims the attempt in D1 and then {@link WorkQueue.bind}s it. Heartbeats renew
 *   leases and carry back a pending `cancel`/`abort` (or `abort` once the Cancel-After deadline passed).
 * - The alarm fires at the earliest expiry: an expired lease goes back to the backlog at its old place (or is
 *   dropped when an action was pending: its prediction already ended).
 * @module
 */
import { DurableObject } from 'cloudflare:workers';
import { edgeLogger } from '../logging.js';

/** A job to queue: the prediction, its account (for fairness) and its Cancel-After deadline. */
export interface QueueEntry {
  predictionId: string;
  accountId: string;
  /** Cancel-After deadline in epoch ms; null without one. */
  deadlineMs: number | null;
}

/** A job taken from the backlog by {@link WorkQueue.lease}, not yet bound to an attempt. */
export interface TakenJob {
  predictionId: string;
  accountId: string;
}

/** A claimed lease to bind: the attempt D1 recorded for it. */
export interface LeaseBinding {
  predictionId: string;
  attempt: number;
}

/** What a backend does with a lease after a heartbeat (mirrors `shared/fleet.ts`'s `LeaseAction`). */
export type HeartbeatAction = 'continue' | 'cancel' | 'abort' | 'lost';

/** One lease in a heartbeat. */
export interface HeartbeatLease {
  predictionId: string;
  attempt: number;
  progress?: { step: number; total: number } | undefined;
}

/** The answer for one lease of a heartbeat; `expiresAtMs` is null for a lost lease. */
export interface HeartbeatVerdict {
  predictionId: string;
  attempt: number;
  action: HeartbeatAction;
  expiresAtMs: number | null;
}

/** How {@link WorkQueue.stop} found the job. */
export type StopOutcome = 'dropped' | 'signalled' | 'absent';

/** Why work is stopped: the prediction was canceled (or failed) at the edge, or its deadline passed. */
export type StopAction = 'cancel' | 'abort';

/** Counts for the backlog endpoint (and the long polls waiting right now, for logs and tests). */
export interface QueueCounts {
  queued: number;
  leased: number;
  waiting: number;
}

interface LeaseRow extends Record<string, SqlStorageValue> {
  prediction_id: string;
  account_id: string;
  seq: number;
  attempt: number | null;
  worker_id: string;
  expires_at: number;
  deadline: number | null;
  action: string | null;
}

export class WorkQueue extends DurableObject<Env> {
  #sql: SqlStorage;
  /** Long polls waiting for work; each is woken (and tries to take jobs) when work arrives. */
  #waiters = new Set<() => void>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS backlog (prediction_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, seq INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL, deadline INTEGER);
      CREATE INDEX IF NOT EXISTS backlog_account ON backlog(account_id, seq);
      CREATE TABLE IF NOT EXISTS leases (prediction_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, seq INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL, deadline INTEGER, attempt INTEGER, worker_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
        progress_step INTEGER, progress_total INTEGER, progress_at INTEGER, action TEXT);
      CREATE INDEX IF NOT EXISTS leases_expiry ON leases(expires_at);
      CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY, served INTEGER NOT NULL);
    `);
  }

  /** Next value of a counter kept in `meta` (enqueue order, service order). */
  #next(counter: string): number {
    const row = this.#sql
      .exec<{ v: number }>('INSERT INTO meta (k, v) VALUES (?, 1) ON CONFLICT(k) DO UPDATE SET v = v + 1 RETURNING v', counter)
      .one();
    return row.v;
  }

  #wakeWaiters(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Sets the alarm to the earliest lease expiry (none when nothing is leased). */
  async #armExpiry(): Promise<void> {
    const row = this.#sql.exec<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM leases').one();
    if (row.at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(row.at, Date.now()));
  }

  /**
   * Queues a job (again). A job already queued stays where it is; a lease of it is dropped (its holder then
   * hears `lost`), so the job goes out again as a new attempt.
   * @returns whether it was queued now (false when it already waited in the backlog)
   */
  async enqueue(entry: QueueEntry, nowMs: number = Date.now()): Promise<boolean> {
    const lease = this.#sql
      .exec<{ seq: number }>('DELETE FROM leases WHERE prediction_id = ? RETURNING seq', entry.predictionId)
      .toArray()[0];
    const inserted =
      this.#sql
        .exec(
          'INSERT INTO backlog (prediction_id, account_id, seq, enqueued_at, deadline) VALUES (?, ?, ?, ?, ?) ON CONFLICT(prediction_id) DO NOTHING RETURNING prediction_id',
          entry.predictionId,
          entry.accountId,
          lease?.seq ?? this.#next('enqueue_seq'),
          nowMs,
          entry.deadlineMs,
        )
        .toArray().length > 0;
    if (lease) await this.#armExpiry();
    if (inserted) this.#wakeWaiters();
    return inserted;
  }

  /** Moves up to `capacity` jobs from the backlog into leases of `workerId`, round-robin across accounts. */
  #take(workerId: string, capacity: number, ttlMs: number, nowMs: number): TakenJob[] {
    const taken: TakenJob[] = [];
    while (taken.length < capacity) {
      // The head job of every account; the account served least recently (never = 0) first, then the oldest head.
      const head = this.#sql
        .exec<{ prediction_id: string; account_id: string; seq: number; enqueued_at: number; deadline: number | null }>(
          `SELECT b.prediction_id, b.account_id, b.seq, b.enqueued_at, b.deadline FROM backlog b
             JOIN (SELECT account_id, MIN(seq) AS seq FROM backlog GROUP BY account_id) h ON h.account_id = b.account_id AND h.seq = b.seq
             LEFT JOIN accounts a ON a.account_id = b.account_id
           ORDER BY COALESCE(a.served, 0), b.seq LIMIT 1`,
        )
        .toArray()[0];
      if (!head) break;
      this.#sql.exec('DELETE FROM backlog WHERE prediction_id = ?', head.prediction_id);
      this.#sql.exec(
        `INSERT INTO leases (prediction_id, account_id, seq, enqueued_at, deadline, attempt, worker_id, expires_at)
         VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`,
        head.prediction_id,
        head.account_id,
        head.seq,
        head.enqueued_at,
        head.deadline,
        workerId,
        nowMs + ttlMs,
      );
      this.#sql.exec(
        'INSERT INTO accounts (account_id, served) VALUES (?, ?) ON CONFLICT(account_id) DO UPDATE SET served = excluded.served',
        head.account_id,
        this.#next('served_seq'),
      );
      taken.push({ predictionId: head.prediction_id, accountId: head.account_id });
    }
    // Accounts with nothing queued need no service order any more.
    if (taken.length > 0) this.#sql.exec('DELETE FROM accounts WHERE account_id NOT IN (SELECT account_id FROM backlog)');
    return taken;
  }

  /**
   * Takes up to `capacity` jobs for `workerId`, waiting up to `waitMs` for some to arrive. Each taken job is
   * leased until `ttlMs` from now without an attempt; the caller claims the attempt in D1 and {@link bind}s it,
   * or {@link drop}s the job (its prediction ended meanwhile).
   */
  async lease(workerId: string, capacity: number, waitMs: number, ttlMs: number): Promise<TakenJob[]> {
    const until = Date.now() + waitMs;
    for (;;) {
      const taken = this.#take(workerId, capacity, ttlMs, Date.now());
      if (taken.length > 0) {
        await this.#armExpiry();
        return taken;
      }
      const left = until - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.#waiters.delete(wake);
          resolve();
        }, left);
        this.#waiters.add(wake);
      });
    }
  }

  /**
   * Records the attempts D1 claimed for leases taken by `workerId`.
   * @returns per binding, the lease's expiry (epoch ms), or null when the lease is no longer this worker's
   */
  async bind(workerId: string, bindings: LeaseBinding[]): Promise<Array<number | null>> {
    return bindings.map(({ predictionId, attempt }) => {
      const row = this.#sql
        .exec<{ expires_at: number }>(
          'UPDATE leases SET attempt = ? WHERE prediction_id = ? AND worker_id = ? AND attempt IS NULL RETURNING expires_at',
          attempt,
          predictionId,
          workerId,
        )
        .toArray()[0];
      return row?.expires_at ?? null;
    });
  }

  /** Puts jobs taken by `workerId` but never bound (their claim failed) back in the backlog at their old place. */
  async unlease(workerId: string, predictionIds: string[]): Promise<number> {
    let returned = 0;
    for (const id of predictionIds) {
      const row = this.#sql
        .exec<LeaseRow & { enqueued_at: number }>(
          'DELETE FROM leases WHERE prediction_id = ? AND worker_id = ? AND attempt IS NULL RETURNING *',
          id,
          workerId,
        )
        .toArray()[0];
      if (!row || row.action !== null) continue;
      this.#requeue(row);
      returned++;
    }
    await this.#armExpiry();
    if (returned > 0) this.#wakeWaiters();
    return returned;
  }

  /** Forgets a job wherever it is (its prediction ended, or it cannot run); returns whether it was held. */
  async drop(predictionId: string): Promise<boolean> {
    const removed =
      this.#sql.exec('DELETE FROM backlog WHERE prediction_id = ? RETURNING prediction_id', predictionId).toArray().length +
      this.#sql.exec('DELETE FROM leases WHERE prediction_id = ? RETURNING prediction_id', predictionId).toArray().length;
    if (removed > 0) await this.#armExpiry();
    return removed > 0;
  }

  /**
   * Renews the leases `workerId` holds and answers what to do with each: a pending action, `abort` once the
   * deadline passed, `lost` for a lease that is not (or no longer) this worker's attempt.
   */
  async heartbeat(workerId: string, leases: HeartbeatLease[], ttlMs: number, nowMs: number = Date.now()): Promise<HeartbeatVerdict[]> {
    const verdicts = leases.map(({ predictionId, attempt, progress }): HeartbeatVerdict => {
      const row = this.#sql
        .exec<LeaseRow>('SELECT * FROM leases WHERE prediction_id = ? AND attempt = ? AND worker_id = ?', predictionId, attempt, workerId)
        .toArray()[0];
      if (!row) return { predictionId, attempt, action: 'lost', expiresAtMs: null };
      const expiresAtMs = nowMs + ttlMs;
      this.#sql.exec(
        `UPDATE leases SET expires_at = ?, progress_step = COALESCE(?, progress_step), progress_total = COALESCE(?, progress_total),
           progress_at = CASE WHEN ? IS NULL THEN progress_at ELSE ? END WHERE prediction_id = ?`,
        expiresAtMs,
        progress?.step ?? null,
        progress?.total ?? null,
        progress?.step ?? null,
        nowMs,
        predictionId,
      );
      const pending = row.action === 'cancel' || row.action === 'abort' ? row.action : null;
      const pastDeadline = row.deadline !== null && row.deadline <= nowMs;
      return { predictionId, attempt, action: pending ?? (pastDeadline ? 'abort' : 'continue'), expiresAtMs };
    });
    await this.#armExpiry();
    return verdicts;
  }

  /**
   * Hands leases of `workerId` back unstarted: each goes back to the backlog at once, at its old place (one with
   * a pending action is dropped instead: its prediction ended).
   * @returns how many were this worker's and are queued again
   */
  async release(workerId: string, leases: LeaseBinding[]): Promise<number> {
    let released = 0;
    for (const { predictionId, attempt } of leases) {
      const row = this.#sql
        .exec<LeaseRow & { enqueued_at: number }>(
          'DELETE FROM leases WHERE prediction_id = ? AND attempt = ? AND worker_id = ? RETURNING *',
          predictionId,
          attempt,
          workerId,
        )
        .toArray()[0];
      if (!row || row.action !== null) continue;
      this.#requeue(row);
      released++;
    }
    await this.#armExpiry();
    if (released > 0) this.#wakeWaiters();
    return released;
  }

  #requeue(row: LeaseRow & { enqueued_at: number }): void {
    this.#sql.exec(
      'INSERT INTO backlog (prediction_id, account_id, seq, enqueued_at, deadline) VALUES (?, ?, ?, ?, ?) ON CONFLICT(prediction_id) DO NOTHING',
      row.prediction_id,
      row.account_id,
      row.seq,
      row.enqueued_at,
      row.deadline,
    );
  }

  /**
   * Stops a job whose prediction ended at the edge: a queued job is dropped; a leased one keeps its lease with
   * the action pending, which its holder hears at its next heartbeat.
   */
  async stop(predictionId: string, action: StopAction): Promise<StopOutcome> {
    if (this.#sql.exec('DELETE FROM backlog WHERE prediction_id = ? RETURNING prediction_id', predictionId).toArray().length > 0)
      return 'dropped';
    return this.#sql.exec('UPDATE leases SET action = ? WHERE prediction_id = ? RETURNING prediction_id', action, predictionId).toArray()
      .length > 0
      ? 'signalled'
      : 'absent';
  }

  /** Jobs waiting and jobs under a lease. */
  async counts(): Promise<QueueCounts> {
    const queued = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM backlog').one().n;
    const leased = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM leases').one().n;
    return { queued, leased, waiting: this.#waiters.size };
  }

  /** The ids among `predictionIds` that this queue holds (queued or leased). */
  async holding(predictionIds: string[]): Promise<string[]> {
    return predictionIds.filter(
      (id) =>
        this.#sql
          .exec<{ n: number }>(
            'SELECT (SELECT COUNT(*) FROM backlog WHERE prediction_id = ?) + (SELECT COUNT(*) FROM leases WHERE prediction_id = ?) AS n',
            id,
            id,
          )
          .one().n > 0,
    );
  }

  /** Expired leases go back to the backlog (or are dropped when their prediction already ended); re-arms. */
  override async alarm(): Promise<void> {
    const expired = this.#sql
      .exec<LeaseRow & { enqueued_at: number }>('DELETE FROM leases WHERE expires_at <= ? RETURNING *', Date.now())
      .toArray();
    let requeued = 0;
    for (const row of expired) {
      if (row.action !== null) continue;
      this.#requeue(row);
      requeued++;
    }
    if (expired.length > 0) {
      edgeLogger.warn('leases expired', {
        expired: expired.map((r) => ({ prediction_id: r.prediction_id, attempt: r.attempt, worker_id: r.worker_id })),
        requeued,
      });
    }
    await this.#armExpiry();
    if (requeued > 0) this.#wakeWaiters();
  }
}

/** The work queue stub of a model. */
export function workQueueOf(env: Pick<Env, 'WORK_QUEUE'>, model: string): DurableObjectStub<WorkQueue> {
  const ns = env.WORK_QUEUE;
  return ns.get(ns.idFromName(model));
}
