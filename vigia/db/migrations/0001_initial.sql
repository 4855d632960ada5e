-- Sensors, raw readings and one-minute window aggregates.
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE sensors (
    sensor_id    text PRIMARY KEY,
    sensor_type  text NOT NULL,
    district     text NOT NULL,
    latitude     double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude    double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    tile_id      text NOT NULL,
    metrics      text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX sensors_district_idx ON sensors (district);
CREATE INDEX sensors_tile_idx ON sensors (tile_id);

CREATE TABLE readings (
    time         timestamptz NOT NULL,
    sensor_id    text NOT NULL,
    metric       text NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    reading_id   uuid NOT NULL,
    received_at  timestamptz NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    district     text NOT NULL,
    tile_id      text NOT NULL
);
SELECT create_hypertable('readings', 'time', chunk_time_interval => INTERVAL '1 day');
-- The natural key: a replayed reading hits this and is dropped.
CREATE UNIQUE INDEX readings_natural_key ON readings (sensor_id, metric, time);

CREATE TABLE readings_1m (
    bucket            timestamptz NOT NULL,
    sensor_id         text NOT NULL,
    metric            text NOT NULL,
    count             integer NOT NULL,
    min               double precision NOT NULL,
    max               double precision NOT NULL,
    mean              double precision NOT NULL,
    last              double precision NOT NULL,
    last_event_time   timestamptz NOT NULL,
    district          text NOT NULL,
    tile_id           text NOT NULL,
    embedding_id      text,
    model_version     text,
    land_use_class    text NOT NULL DEFAULT 'unassessed',
    housing_score     double precision,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, metric, bucket)
);
SELECT create_hypertable('readings_1m', 'bucket', chunk_time_interval => INTERVAL '7 days');
