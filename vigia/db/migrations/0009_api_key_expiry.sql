-- A key may be given for a while (a visiting engineer, a pilot): after expires_at it is refused.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
