-- Every statement that appends to the log wakes the live feeds of every instance at commit
-- (LISTEN clientele_events): the command no longer sends its own pg_notify round trip.
-- Notifications are only wake-ups; readers take the events from the log itself.
CREATE FUNCTION clientele_notify_events() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('clientele_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    FOR EACH STATEMENT
EXECUTE FUNCTION clientele_notify_events();
