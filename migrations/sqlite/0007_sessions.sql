-- Sessions that ended (issue 13): access that was taken back stops at once. Every
-- instance loads these two tables into memory at start and then follows the log, so a
-- check costs a lookup. Never edit this file once landed: add a new one.

-- Sessions ended by id (an impersonation that ended), kept until their tokens expire.
CREATE TABLE ended_sessions
(
    tenant_id  text   NOT NULL,
    session_id text   NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, session_id)
);

-- Per subject, the instant before which every token it was issued is refused (a user
-- disabled or removed, a customer deleted, revokeSessions). Microseconds since the epoch.
CREATE TABLE session_not_before
(
    tenant_id  text   NOT NULL,
    subject    text   NOT NULL,
    not_before bigint NOT NULL,
    PRIMARY KEY (tenant_id, subject)
);
