-- What people on the ground say a tile shows: the housing or land-use class, who said it and
-- when. Every label is kept; the newest per tile counts. `vigia train --labels` fine-tunes the
-- served model on them.
CREATE TABLE field_labels (
    id              bigserial PRIMARY KEY,
    tile_id         text NOT NULL,
    district        text,
    land_use_class  text NOT NULL,
    note            text NOT NULL DEFAULT '',
    labelled_by     text NOT NULL DEFAULT '',
    labelled_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX field_labels_by_tile ON field_labels (tile_id, labelled_at DESC);
CREATE INDEX field_labels_by_district ON field_labels (district, labelled_at DESC);
