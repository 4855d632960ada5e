-- An alert event records when its row was written, not when its transaction began: the
-- benchmark's reading-to-alert latency reads it.
ALTER TABLE alert_events ALTER COLUMN recorded_at SET DEFAULT clock_timestamp();
