-- Accounts, hashed API keys, the credit ledger (append-only; balance = SUM(credits)) and predictions.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  -- hex SHA-256 of the whole key; the key itself is shown once and never stored
  key_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX api_keys_account ON api_keys(account_id);

CREATE TABLE credit_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  -- 'topup' here; reserve/commit/release rows are added by billing
  kind TEXT NOT NULL,
  credits INTEGER NOT NULL,
  prediction_id TEXT,
  key_id TEXT,
  note TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX credit_ledger_account ON credit_ledger(account_id, created_at);

CREATE TABLE predictions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  key_id TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('starting','processing','succeeded','failed','canceled','aborted')),
  -- the input as the client sent it (after schema defaults) and as the backend runs it
  input_json TEXT NOT NULL,
  resolved_json TEXT NOT NULL,
  -- StoredImage[] (object keys, not URLs: URLs are presigned on every read)
  output_json TEXT,
  error TEXT,
  metrics_json TEXT NOT NULL DEFAULT '{}',
  progress_step INTEGER,
  progress_total INTEGER,
  cost_credits INTEGER NOT NULL,
  -- dispatch attempt (0 = not yet sent to a backend) and the last applied backend event seq of that attempt
  attempt INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT -1,
  backend TEXT,
  deadline TEXT,
  webhook TEXT,
  webhook_events_filter TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  completed_at TEXT
);
CREATE INDEX predictions_account_created ON predictions(account_id, created_at DESC, id DESC);
