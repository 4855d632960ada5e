-- The newest reading and the newest one-minute window of each sensor and metric, kept by the
-- stream in the transactions that store them. A sensor's latest readings are the API's most
-- asked question; read from the hypertables it took an index scan per metric in each of two
-- tables, planned over their chunks, on every request.
CREATE TABLE sensor_latest (
    sensor_id       text NOT NULL,
    metric          text NOT NULL,
    -- the newest reading stored (by event time)
    time            timestamptz,
    value           double precision,
    unit            text,
    received_at     timestamptz,
    reading_id      uuid,
    raw_value       double precision,
    calibration     integer,
    -- the newest one-minute window, with the housing it was joined with
    bucket          timestamptz,
    count           integer,
    min             double precision,
    max             double precision,
    mean            double precision,
    last            double precision,
    embedding_id    text,
    model_version   text,
    land_use_class  text,
    housing_score   double precision,
    PRIMARY KEY (sensor_id, metric)
);

-- Rebuilds the table from the hypertables: once here, and after anything writes readings or
-- windows without the stream (a bulk load, a restore).
CREATE FUNCTION rebuild_sensor_latest() RETURNS void LANGUAGE sql AS $$
    TRUNCATE sensor_latest;
    INSERT INTO sensor_latest (sensor_id, metric, time, value, unit, received_at, reading_id, raw_value, calibration,
                               bucket, count, min, max, mean, last, embedding_id, model_version, land_use_class,
                               housing_score)
    SELECT s.sensor_id, m.metric, r.time, r.value, r.unit, r.received_at, r.reading_id, r.raw_value, r.calibration,
           w.bucket, w.count, w.min, w.max, w.mean, w.last, w.embedding_id, w.model_version, w.land_use_class,
           w.housing_score
    FROM sensors s CROSS JOIN LATERAL unnest(s.metrics) AS m(metric)
    LEFT JOIN LATERAL (
        SELECT * FROM readings WHERE sensor_id = s.sensor_id AND metric = m.metric ORDER BY time DESC LIMIT 1
    ) r ON true
    LEFT JOIN LATERAL (
        SELECT * FROM readings_1m WHERE sensor_id = s.sensor_id AND metric = m.metric ORDER BY bucket DESC LIMIT 1
    ) w ON true
    WHERE r.time IS NOT NULL OR w.bucket IS NOT NULL;
$$;

SELECT rebuild_sensor_latest();
