-- Per-sensor calibration: cheap sensors read off by an offset and a gain that a technician
-- measures against a reference. Every change is a new version with who and when; the bridge
-- applies the newest (value = gain * raw + offset) and each reading keeps its raw value and
-- the version applied, so a bad calibration can be found and the readings recomputed.
CREATE TABLE sensor_calibrations (
    sensor_id   text NOT NULL,
    metric      text NOT NULL,
    version     integer NOT NULL,
    gain        double precision NOT NULL CHECK (gain > 0),
    offset_value double precision NOT NULL,
    note        text NOT NULL DEFAULT '',
    set_by      text NOT NULL DEFAULT '',
    set_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, metric, version)
);

ALTER TABLE readings ADD COLUMN raw_value double precision;  -- NULL: no calibration, the value is the raw one
ALTER TABLE readings ADD COLUMN calibration integer;         -- the sensor_calibrations version applied
