-- Webhooks (issue 18). `webhook_endpoints` is a projection (`webhook_endpoints`) of the
-- tenant's WebhookEndpoint* events, kept in the command's transaction.
CREATE TABLE webhook_endpoints
(
    tenant_id       text    NOT NULL,
    endpoint_id     text    NOT NULL,
    version         bigint  NOT NULL,
    url             text    NOT NULL,
    event_types     text    NOT NULL DEFAULT '[]',
    description     text    NOT NULL DEFAULT '',
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    disabled_by     text,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL,
    PRIMARY KEY (tenant_id, endpoint_id)
);

-- Each endpoint's signing secret, never in the log: written in the transaction of the
-- command that registers the endpoint or rotates the secret. During a rotation the previous
-- secret signs too until `previous_until` (microseconds). Not a projection.
CREATE TABLE webhook_secrets
(
    tenant_id       text   NOT NULL,
    endpoint_id     text   NOT NULL,
    secret          text   NOT NULL,
    previous_secret text,
    previous_until  bigint,
    PRIMARY KEY (tenant_id, endpoint_id)
);

-- Where each endpoint's deliveries stand: the last log position delivered (or skipped as
-- not wanted), the failed attempts at the next one and when to try again, and which
-- instance delivers (a lease, renewed while it runs). `generation` grows on every
-- redelivery, so a worker's stale advance cannot undo it. Not a projection.
CREATE TABLE webhook_delivery_state
(
    tenant_id       text   NOT NULL,
    endpoint_id     text   NOT NULL,
    tx_id           bigint NOT NULL DEFAULT 0,
    position        bigint NOT NULL DEFAULT 0,
    failures        bigint NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL DEFAULT 0,
    generation      bigint NOT NULL DEFAULT 0,
    lease_owner     text,
    lease_until     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, endpoint_id)
);

-- Every delivery attempt, newest last (the `deliveries` connection).
CREATE TABLE webhook_deliveries
(
    id              bigserial PRIMARY KEY,
    tenant_id       text   NOT NULL,
    endpoint_id     text   NOT NULL,
    webhook_id      text   NOT NULL,
    event_type      text   NOT NULL,
    event_cursor    text   NOT NULL,
    attempt         bigint NOT NULL,
    status          text   NOT NULL,
    response_code   bigint,
    latency_ms      bigint NOT NULL,
    error           text,
    attempted_at    bigint NOT NULL,
    next_attempt_at bigint
);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
