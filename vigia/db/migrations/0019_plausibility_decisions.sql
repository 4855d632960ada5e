-- What an operator decided about a plausibility flag (api/plausibility.py): confirmed (the
-- sensor or its registration is wrong) or dismissed (the ground is right). The flags
-- themselves are computed from the readings and the imagery whenever they are asked for.
CREATE TABLE plausibility_decisions (
    sensor_id   text NOT NULL,
    rule        text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('confirmed', 'dismissed')),
    note        text NOT NULL DEFAULT '',
    decided_by  text NOT NULL DEFAULT '',
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, rule)
);
