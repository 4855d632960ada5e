-- Mergeable pane state, fifteen-minute hopping windows, late readings, and alerts.

-- A one-minute row carries what is needed to merge it again after a restart: the sum and
-- the bottom-k sample (sample keys and values) behind the robust spread.
ALTER TABLE readings_1m
    ADD COLUMN sum               double precision,
    ADD COLUMN mad               double precision,
    ADD COLUMN last_key          bigint,
    ADD COLUMN sample_keys       bigint[],
    ADD COLUMN sample_values     double precision[],
    ADD COLUMN precarious_share  double precision;

-- A reading later than the allowed lateness is stored and marked, never folded into a window.
ALTER TABLE readings ADD COLUMN late boolean NOT NULL DEFAULT false;

CREATE TABLE readings_15m (
    window_end        timestamptz NOT NULL,
    sensor_id         text NOT NULL,
    metric            text NOT NULL,
    count             integer NOT NULL,
    min               double precision NOT NULL,
    max               double precision NOT NULL,
    mean              double precision NOT NULL,
    last              double precision NOT NULL,
    mad               double precision NOT NULL,
    last_event_time   timestamptz NOT NULL,
    district          text NOT NULL,
    tile_id           text NOT NULL,
    embedding_id      text,
    model_version     text,
    land_use_class    text NOT NULL DEFAULT 'unassessed',
    housing_score     double precision,
    precarious_share  double precision,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, metric, window_end)
);
SELECT create_hypertable('readings_15m', 'window_end', chunk_time_interval => INTERVAL '7 days');

-- One row per alert, kept current; its history is in alert_events.
CREATE TABLE alerts (
    alert_id          uuid PRIMARY KEY,
    rule              text NOT NULL,
    sensor_id         text NOT NULL,
    metric            text,
    district          text NOT NULL,
    tile_id           text NOT NULL,
    severity          text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    state             text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at         timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    resolved_at       timestamptz,
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    note              text,
    value             double precision,
    detail            text NOT NULL DEFAULT '',
    title_es          text NOT NULL,
    title_en          text NOT NULL,
    embedding_id      text,
    model_version     text,
    land_use_class    text NOT NULL DEFAULT 'unassessed',
    housing_score     double precision,
    precarious_share  double precision,
    window_start      timestamptz,
    window_end        timestamptz
);
-- One open alert per sensor and rule.
CREATE UNIQUE INDEX alerts_one_open ON alerts (sensor_id, rule) WHERE state <> 'resolved';
CREATE INDEX alerts_district_idx ON alerts (district, state, opened_at DESC);

-- Every change of every alert, and the outbox the alerts topic is fed from: a change is
-- written with its alert in one transaction and published after, so none is lost.
CREATE TABLE alert_events (
    time          timestamptz NOT NULL,
    alert_id      uuid NOT NULL,
    change        text NOT NULL CHECK (change IN ('opened', 'updated', 'acknowledged', 'resolved')),
    severity      text NOT NULL,
    state         text NOT NULL,
    value         double precision,
    detail        text NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    PRIMARY KEY (alert_id, change, time)
);
SELECT create_hypertable('alert_events', 'time', chunk_time_interval => INTERVAL '30 days');
CREATE INDEX alert_events_unpublished_idx ON alert_events (recorded_at) WHERE published_at IS NULL;
