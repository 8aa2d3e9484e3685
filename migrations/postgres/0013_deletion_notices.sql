-- Who is told about deletion requests (`setDeletionNotices`): a JSON list of addresses and
-- a language, and since when (requests and closings before it are not announced).
ALTER TABLE tenant_settings ADD COLUMN deletion_notice_recipients text NOT NULL DEFAULT '[]';
ALTER TABLE tenant_settings ADD COLUMN deletion_notice_language text NOT NULL DEFAULT 'en';
ALTER TABLE tenant_settings ADD COLUMN deletion_notices_since bigint NOT NULL DEFAULT 0;

-- One row per notice mailed (or being mailed) about a request: REQUESTED, CANCELLED,
-- CARRIED_OUT, DUE_SOON. A row is claimed before the mail is sent and marked sent after;
-- a claim older than a few minutes without `sent_at` is taken again (at least once).
-- Not a projection: it records what the service did, not what happened.
CREATE TABLE deletion_notices
(
    tenant_id   text   NOT NULL,
    customer_id text   NOT NULL,
    request_id  text   NOT NULL,
    kind        text   NOT NULL,
    claimed_at  bigint NOT NULL,
    sent_at     bigint,
    PRIMARY KEY (tenant_id, customer_id, request_id, kind)
);
