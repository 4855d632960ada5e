-- API keys: who calls the API, in what role, and (for a community leader) for which district.
-- Only a hash of each key's secret is kept; the key itself is shown once, when it is made.
CREATE TABLE api_keys (
    key_id text PRIMARY KEY,
    secret_sha256 text NOT NULL,
    role text NOT NULL CHECK (role IN ('operator', 'leader', 'sensor-admin', 'viewer')),
    district text,
    name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    CHECK ((role = 'leader') = (district IS NOT NULL))
);
