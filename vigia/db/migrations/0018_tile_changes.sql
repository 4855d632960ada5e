-- Each comparison of a tile's acquisition with the one before it, by the same model
-- (inference/change.py): the embedding distance, what moved, and whether it was significant.
CREATE TABLE tile_changes (
    tile_id           text NOT NULL,
    before_at         timestamptz NOT NULL,
    after_at          timestamptz NOT NULL,
    model_version     text NOT NULL,
    district          text,
    distance          real NOT NULL,
    housing_delta     real NOT NULL,
    built_up_delta    real NOT NULL,
    vegetation_delta  real NOT NULL,
    class_before      text NOT NULL,
    class_after       text NOT NULL,
    kind              text NOT NULL,
    significant       boolean NOT NULL,
    alert_id          uuid,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tile_id, before_at, after_at, model_version)
);
CREATE INDEX tile_changes_by_district ON tile_changes (district, after_at DESC) WHERE significant;

-- A change seen from the air is an alert about a tile, not a sensor: its sensor_id is
-- 'imagery', so one open alert per sensor and rule becomes one per sensor, rule and tile
-- (a sensor stands in one tile, so nothing changes for the sensors' alerts).
DROP INDEX alerts_one_open;
CREATE UNIQUE INDEX alerts_one_open ON alerts (sensor_id, rule, tile_id) WHERE state IN ('open', 'acknowledged');
