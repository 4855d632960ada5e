-- Every attempt at a delivery, not only the last: when, through which channel, and what the
-- provider answered, so a leader's "I never got it" can be checked attempt by attempt.
CREATE TABLE delivery_attempts (
    delivery_id   bigint NOT NULL REFERENCES deliveries,
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    channel       text NOT NULL,
    delivered     boolean NOT NULL,
    status        integer,            -- the provider's HTTP status, where there is one
    answer        text,               -- the provider's words, or why it failed
    PRIMARY KEY (delivery_id, attempted_at)
);
