-- A pane's bottom-k sample in one bytea (int64 keys, then float64 values, little-endian)
-- instead of two arrays: array literals were the costliest part of writing a window row.
-- Panes written before this keep their count, extremes and sum; their sample starts empty,
-- which only narrows the spread of windows still open at the upgrade.
ALTER TABLE readings_1m ADD COLUMN sample bytea;
ALTER TABLE readings_1m DROP COLUMN sample_keys;
ALTER TABLE readings_1m DROP COLUMN sample_values;
