-- An alert the stream raised while a gateway's buffer was still on its way, and that the
-- buffer shows never happened (the light came back inside the gap it was made of), is
-- withdrawn: kept, told to those who heard of it, and counted nowhere.
ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('open', 'acknowledged', 'resolved', 'withdrawn'));
DROP INDEX alerts_one_open;
CREATE UNIQUE INDEX alerts_one_open ON alerts (sensor_id, rule) WHERE state IN ('open', 'acknowledged');
ALTER TABLE alert_events DROP CONSTRAINT alert_events_change_check;
ALTER TABLE alert_events ADD CONSTRAINT alert_events_change_check
    CHECK (change IN ('opened', 'updated', 'acknowledged', 'resolved', 'withdrawn'));
