-- Billing: every credit movement of a prediction is one ledger row per (prediction, kind), so a repeated
-- event can never reserve, commit or release twice. `credits` is the effect on the balance (balance =
-- SUM(credits)); `amount` is the size of the movement (reserve R = commit C + release R−C per prediction).
-- `entry_id` is written by the account's Durable Object so that re-flushing its outbox never duplicates a row.
ALTER TABLE credit_ledger ADD COLUMN amount INTEGER;
ALTER TABLE credit_ledger ADD COLUMN entry_id TEXT;
CREATE UNIQUE INDEX credit_ledger_entry ON credit_ledger(entry_id);
CREATE UNIQUE INDEX credit_ledger_prediction_kind ON credit_ledger(prediction_id, kind) WHERE prediction_id IS NOT NULL;
CREATE INDEX credit_ledger_key ON credit_ledger(account_id, key_id, created_at);

-- Idempotency-Key records (per account), kept 24 h; expired rows are deleted by the scheduled cleanup.
CREATE TABLE idempotency_keys (
  account_id TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  -- hex SHA-256 of method, path and body
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in-flight', 'completed')),
  -- random token of the request holding the key while in flight
  owner TEXT NOT NULL,
  locked_until TEXT NOT NULL,
  response_status INTEGER,
  response_headers TEXT,
  response_body TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (account_id, idem_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);

-- Webhooks: one signing secret per account, endpoints disabled by a 410, deliveries and their attempts.
CREATE TABLE webhook_secrets (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id),
  secret TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE webhook_disabled_endpoints (
  account_id TEXT NOT NULL,
  url TEXT NOT NULL,
  disabled_at TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (account_id, url)
);

CREATE TABLE webhook_deliveries (
  -- the Standard Webhooks message id (`webhook-id`), stable across retries and replays
  id TEXT PRIMARY KEY,
  prediction_id TEXT NOT NULL REFERENCES predictions(id),
  account_id TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('start', 'output', 'logs', 'completed')),
  url TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'disabled', 'refused')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  next_attempt_at TEXT,
  claimed_at TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
-- start, output and completed happen once per prediction; logs are throttled.
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries(prediction_id, event) WHERE event <> 'logs';
CREATE INDEX webhook_deliveries_prediction ON webhook_deliveries(prediction_id, created_at);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(status, next_attempt_at);

CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
  attempt INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
);
