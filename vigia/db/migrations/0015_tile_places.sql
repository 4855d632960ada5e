-- How people name a block ("Mz. C, AA.HH. Villa Hermosa"): set through the API, or else the
-- name most of its sensors' places share. The page, messages and reports use it; the tile id
-- stays a detail.
CREATE TABLE tile_places (
    tile_id     text PRIMARY KEY,
    place       text NOT NULL CHECK (length(place) BETWEEN 1 AND 80),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW tile_place_names AS
    SELECT tile_id, place FROM tile_places
    UNION ALL
    SELECT s.tile_id, mode() WITHIN GROUP (ORDER BY s.place)
    FROM sensors s
    WHERE s.place <> '' AND s.revoked_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM tile_places p WHERE p.tile_id = s.tile_id)
    GROUP BY s.tile_id;
