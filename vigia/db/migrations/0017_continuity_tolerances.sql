-- The NTCSE tolerances an operator sets per district and service: at most this many
-- interruptions, lasting at most this many hours, per supply point over a semester.
-- The law's numbers depend on the supply level and change, so they are data, not code.
CREATE TABLE continuity_tolerances (
    district       text NOT NULL,
    service        text NOT NULL CHECK (service IN ('power', 'water')),
    interruptions  integer NOT NULL CHECK (interruptions >= 0),
    hours          double precision NOT NULL CHECK (hours >= 0),
    set_by         text NOT NULL DEFAULT '',
    set_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, service)
);
