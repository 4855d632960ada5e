-- Alerts that reach phones: SMS through Kannel, other channels through Apprise, a reply code
-- per alert, escalation chains, quiet hours, a per-person hourly limit, delivery receipts.

-- How people name the place a sensor watches ("Mz. C, AA.HH. Villa Hermosa"), set when registering.
ALTER TABLE sensors ADD COLUMN place text NOT NULL DEFAULT '';

-- Who the subscriber is, where they stand in the district's escalation chain, and when to leave them be.
ALTER TABLE subscriptions
    ADD COLUMN name          text    NOT NULL DEFAULT '',   -- shown as who acknowledged by reply
    ADD COLUMN wait_minutes  integer NOT NULL DEFAULT 0 CHECK (wait_minutes >= 0),  -- 0: told at once
    ADD COLUMN quiet_from    time,                          -- Lima clock; non-critical messages wait
    ADD COLUMN quiet_until   time,
    ADD COLUMN max_per_hour  integer NOT NULL DEFAULT 10 CHECK (max_per_hour >= 1),  -- then one digest
    ADD CONSTRAINT subscriptions_quiet_both CHECK ((quiet_from IS NULL) = (quiet_until IS NULL));
-- A phone number subscribed to a district is who may acknowledge its alerts by reply.
CREATE INDEX subscriptions_target_idx ON subscriptions (target) WHERE deleted_at IS NULL;

-- skipped: someone acknowledged before this step of the chain was due, or the subscriber was
-- never told of the opening; held: over the hourly limit, waiting for a digest; digested: sent
-- as part of the digest `digest_id`.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed', 'skipped', 'held', 'digested'));
ALTER TABLE deliveries
    ADD COLUMN channel       text,          -- the subscription's channel when it was sent
    ADD COLUMN answer        text,          -- the provider's own words ("0: Accepted for delivery")
    ADD COLUMN receipt       text,          -- what the phone network reported: delivered, failed, buffered...
    ADD COLUMN receipt_at    timestamptz,
    ADD COLUMN digest_id     bigint REFERENCES deliveries (delivery_id);
CREATE INDEX deliveries_held_idx ON deliveries (subscription_id) WHERE status = 'held';
CREATE INDEX deliveries_sent_idx ON deliveries (subscription_id, delivered_at) WHERE status = 'delivered';

-- The short number a leader replies with ("OK 4821"): unique among alerts still open, so it is
-- short; released when the alert ends, so old codes are reused.
CREATE TABLE alert_codes (
    alert_id     uuid PRIMARY KEY,
    district     text NOT NULL,
    code         text NOT NULL,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz
);
CREATE UNIQUE INDEX alert_codes_live ON alert_codes (code) WHERE released_at IS NULL;

-- Every message received from a phone and what came of it.
CREATE TABLE replies (
    reply_id         bigserial PRIMARY KEY,
    received_at      timestamptz NOT NULL DEFAULT now(),
    channel          text NOT NULL,
    sender           text NOT NULL,          -- E.164; personal data, shown masked
    body             text NOT NULL,
    subscription_id  uuid REFERENCES subscriptions,
    alert_id         uuid,
    outcome          text NOT NULL,          -- acknowledged, resolved, refused, unknown-sender, not-understood ...
    answer           text NOT NULL DEFAULT ''
);
CREATE INDEX replies_alert_idx ON replies (alert_id);
