-- The live alert feed reads alert changes in the order they were recorded.
CREATE INDEX alert_events_recorded_idx ON alert_events (recorded_at);

-- Who wants to hear of alerts in a district, and how.
CREATE TABLE subscriptions (
    subscription_id  uuid PRIMARY KEY,
    district         text NOT NULL,
    min_severity     text NOT NULL CHECK (min_severity IN ('info', 'warning', 'critical')),
    channel          text NOT NULL,          -- 'webhook', or an SMS/WhatsApp provider's name
    target           text NOT NULL,          -- a URL for a webhook, a phone number for a message channel
    language         text NOT NULL CHECK (language IN ('es', 'en')),
    place            text NOT NULL DEFAULT '', -- how people name the area ("Manzana C"); default: the tile
    signing_secret   text NOT NULL,          -- webhooks are signed with it; shown once, on creation
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE INDEX subscriptions_district_idx ON subscriptions (district) WHERE deleted_at IS NULL;

-- Every message owed to a subscriber, with its attempts: the delivery log.
CREATE TABLE deliveries (
    delivery_id      bigserial PRIMARY KEY,
    subscription_id  uuid NOT NULL REFERENCES subscriptions,
    alert_id         uuid NOT NULL,
    change           text NOT NULL,          -- opened, updated, acknowledged, resolved, or reminder
    event_time       timestamptz NOT NULL,
    message          text NOT NULL,          -- the words a person reads, for the log
    payload          jsonb NOT NULL,         -- what is sent: the alert, the message, the subscription
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (subscription_id, alert_id, change, event_time)
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_alert_idx ON deliveries (alert_id);
