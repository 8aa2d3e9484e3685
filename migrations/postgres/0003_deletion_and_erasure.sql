-- Deletion requests and erasure (seed 001). Never edit this file once landed: add a new one.

-- One encryption key per customer. Personal fields in stored events are sealed with it;
-- deleting the customer deletes the key, which makes those values unrecoverable
-- (crypto-shredding) while the events themselves stay for the audit trail.
CREATE TABLE subject_keys
(
    aggregate_id text PRIMARY KEY,
    key          text NOT NULL
);

-- Read model: every deletion request and how it ended.
CREATE TABLE deletion_requests
(
    tenant_id    text   NOT NULL,
    customer_id  text   NOT NULL,
    request_id   text   NOT NULL,
    requested_by text   NOT NULL,
    requested_at bigint NOT NULL,
    reason       text,
    due_at       bigint NOT NULL,
    status       text   NOT NULL, -- OPEN, CANCELLED or CARRIED_OUT
    closed_by    text,
    closed_at    bigint,
    note         text,
    automatic    boolean NOT NULL DEFAULT false,
    version      bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, request_id)
);
CREATE INDEX deletion_requests_due ON deletion_requests (status, due_at);

ALTER TABLE tenant_settings ADD COLUMN deletion_grace_days integer NOT NULL DEFAULT 10;
