-- The fleet reaper looks every minute for predictions that have not ended (starting/processing); this partial
-- index keeps that read proportional to the unfinished predictions, not to the whole table.
CREATE INDEX predictions_unfinished ON predictions(created_at) WHERE status IN ('starting', 'processing');
