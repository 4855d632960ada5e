-- Each API process keeps the keys it has checked for a few seconds, so a request costs one
-- query, not two. Any change to a key (revoked, expiry moved, deleted by hand) tells them
-- at once on this channel, with the key id, so a revoked key stops working immediately.
CREATE FUNCTION api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vigia_api_keys', OLD.key_id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER api_keys_changed AFTER UPDATE OR DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION api_keys_changed();
