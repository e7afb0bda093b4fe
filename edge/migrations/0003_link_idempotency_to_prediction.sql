-- The prediction an Idempotency-Key created, set in the same transaction as the prediction's INSERT (after its
-- price was reserved). Once set, a retry with the key answers with that prediction and never creates another,
-- whatever became of the first request's response (an error after the charge, a request that died, a response
-- too large to store).
ALTER TABLE idempotency_keys ADD COLUMN prediction_id TEXT;
