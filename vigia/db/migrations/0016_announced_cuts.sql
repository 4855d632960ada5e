-- Programmed cuts an operator recorded with when people were told: one announced 48 hours
-- ahead is listed in the continuity evidence but neither counted nor compensable.
CREATE TABLE announced_cuts (
    id            bigserial PRIMARY KEY,
    district      text NOT NULL,
    service       text NOT NULL CHECK (service IN ('power', 'water')),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL CHECK (ends_at > starts_at),
    announced_at  timestamptz NOT NULL,
    note          text NOT NULL DEFAULT '',
    recorded_by   text NOT NULL DEFAULT '',
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announced_cuts_by_district ON announced_cuts (district, starts_at);
