-- Clientele's first schema on PostgreSQL. Never edit this file once landed: add a new one.

-- The event store: postgres-es's `events` table, plus what a reader of the whole log needs.
-- `position` orders events within a transaction, `tx_id` records the writing transaction, so
-- a reader can follow (tx_id, position) and only read transactions older than every running
-- one (pg_snapshot_xmin): an event committed out of order is never skipped.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    tenant_id      text                         NOT NULL DEFAULT '',
    occurred_at    bigint                       NOT NULL DEFAULT 0,
    position       bigint GENERATED ALWAYS AS IDENTITY,
    tx_id          xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE INDEX events_global_order ON events (tx_id, position);

-- The latest state of each aggregate, written in the same transaction as its events,
-- so a command never replays a long history.
CREATE TABLE aggregate_snapshots
(
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    version        bigint NOT NULL,
    payload        text   NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- Values unique within a tenant (customer name, shortname), claimed in the command's transaction.
CREATE TABLE unique_keys
(
    tenant_id    text NOT NULL,
    kind         text NOT NULL,
    value        text NOT NULL,
    aggregate_id text NOT NULL,
    PRIMARY KEY (tenant_id, kind, value)
);

-- How far each projection has read the global log.
CREATE TABLE projection_checkpoints
(
    name     text PRIMARY KEY,
    tx_id    bigint NOT NULL DEFAULT 0,
    position bigint NOT NULL DEFAULT 0
);

-- Read model: one row per customer.
CREATE TABLE customers
(
    tenant_id                   text    NOT NULL,
    id                          text    NOT NULL,
    version                     bigint  NOT NULL,
    name                        text    NOT NULL,
    email                       text,
    given_name                  text,
    family_name                 text,
    organization                text,
    shortname                   text,
    customer_type               text,
    service_status              text,
    contractual_flows_per_second bigint,
    multi_account               boolean NOT NULL,
    internal                    boolean NOT NULL,
    test_account                boolean NOT NULL,
    data_retention_days         integer,
    rollup_retention_days       integer,
    language                    text    NOT NULL,
    seller                      text,
    custom_id                   text,
    title                       text,
    country                     text,
    city                        text,
    address                     text,
    phone                       text,
    account_status              text    NOT NULL,
    search_text                 text    NOT NULL,
    created_at                  bigint  NOT NULL,
    updated_at                  bigint  NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customers_by_created ON customers (tenant_id, created_at, id);
CREATE INDEX customers_by_name ON customers (tenant_id, name, id);
CREATE INDEX customers_by_organization ON customers (tenant_id, (coalesce(organization, '')), id);
CREATE INDEX customers_by_shortname ON customers (tenant_id, (coalesce(shortname, '')), id);

-- Read model: each tenant's settings.
CREATE TABLE tenant_settings
(
    tenant_id       text   PRIMARY KEY,
    version         bigint NOT NULL,
    required_fields text   NOT NULL
);

-- Read model, followed asynchronously from the log: customers per tenant and account status.
CREATE TABLE customer_counts
(
    tenant_id      text   NOT NULL,
    account_status text   NOT NULL,
    customers      bigint NOT NULL,
    PRIMARY KEY (tenant_id, account_status)
);
