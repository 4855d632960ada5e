-- Which image each tile had at each acquisition: the archive keeps the bytes, by their hash
-- (vigia/archive.py); x and y let the map's lower zooms find the tiles inside theirs.
CREATE TABLE imagery (
    tile_id      text NOT NULL,
    zoom         integer NOT NULL,
    x            integer NOT NULL,
    y            integer NOT NULL,
    captured_at  timestamptz NOT NULL,
    district     text,
    source       text,
    digest       text NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tile_id, captured_at)
);
CREATE INDEX imagery_by_place ON imagery (zoom, x, y, captured_at DESC);
CREATE INDEX imagery_by_district ON imagery (district, archived_at DESC);
