-- The imagery model registry and tile assessments.

CREATE TABLE models (
    version        text PRIMARY KEY,
    architecture   text NOT NULL,
    path           text NOT NULL,
    classes        text[] NOT NULL,
    input_size     integer NOT NULL,
    metrics        jsonb NOT NULL DEFAULT '{}',
    trained_at     timestamptz NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    active         boolean NOT NULL DEFAULT false,
    activated_at   timestamptz
);
-- At most one active model: promotion is one transaction that moves the flag.
CREATE UNIQUE INDEX models_one_active ON models (active) WHERE active;

-- One row per tile, model version and image. Imagery tiles (zoom about 19) carry the
-- model's own output and the interpretable features; sensor tiles (zoom 17) carry the
-- roll-up of the imagery tiles inside them. `time` is when the image was taken or
-- submitted, so re-assessing the same image rewrites its row instead of adding one.
CREATE TABLE tile_assessments (
    time                 timestamptz NOT NULL,
    tile_id              text NOT NULL,
    zoom                 smallint NOT NULL,
    parent_tile_id       text,
    district             text,
    model_version        text NOT NULL,
    land_use_class       text NOT NULL,
    class_probability    real,
    housing_score        real NOT NULL CHECK (housing_score BETWEEN 0 AND 1),
    precarious_share     real,
    sub_tiles            integer,
    features             jsonb,
    embedding            real[] NOT NULL,
    source               text,
    computed_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tile_id, model_version, time)
);
SELECT create_hypertable('tile_assessments', 'time', chunk_time_interval => INTERVAL '90 days');
CREATE INDEX tile_assessments_parent_idx ON tile_assessments (parent_tile_id, model_version, time DESC);
CREATE INDEX tile_assessments_district_idx ON tile_assessments (district, time DESC);
