-- When each sensor's row last changed (registered, moved, revoked), so the bridge can read
-- only what changed since its last look instead of the whole registry: at 100,000 sensors a
-- whole read takes seconds, during which the bridge takes no message.
ALTER TABLE sensors ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION sensors_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER sensors_changed BEFORE UPDATE ON sensors FOR EACH ROW EXECUTE FUNCTION sensors_changed();

CREATE INDEX sensors_changed_at ON sensors (changed_at);
CREATE INDEX sensor_calibrations_set_at ON sensor_calibrations (set_at);
