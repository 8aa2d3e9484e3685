-- Clientele's first schema on SQLite. Never edit this file once landed: add a new one.

-- The event store: sqlite-es's `events` table, plus a global `position`. SQLite has one writer
-- at a time and Clientele assigns position = max + 1 inside the writing transaction, so
-- position order is commit order (the implicit rowid is not used: VACUUM may renumber it).
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       integer CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        text                         NOT NULL,
    metadata       text                         NOT NULL,
    tenant_id      text                         NOT NULL DEFAULT '',
    occurred_at    integer                      NOT NULL DEFAULT 0,
    position       integer                      NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_global_order ON events (position);

-- The latest state of each aggregate, written in the same transaction as its events,
-- so a command never replays a long history.
CREATE TABLE aggregate_snapshots
(
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    version        integer NOT NULL,
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
    tx_id    integer NOT NULL DEFAULT 0, -- unused on SQLite
    position integer NOT NULL DEFAULT 0
);

-- Read model: one row per customer.
CREATE TABLE customers
(
    tenant_id                   text    NOT NULL,
    id                          text    NOT NULL,
    version                     integer  NOT NULL,
    name                        text    NOT NULL,
    email                       text,
    given_name                  text,
    family_name                 text,
    organization                text,
    shortname                   text,
    customer_type               text,
    service_status              text,
    contractual_flows_per_second integer,
    multi_account               integer NOT NULL,
    internal                    integer NOT NULL,
    test_account                integer NOT NULL,
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
    created_at                  integer  NOT NULL,
    updated_at                  integer  NOT NULL,
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
    version         integer NOT NULL,
    required_fields text   NOT NULL
);

-- Read model, followed asynchronously from the log: customers per tenant and account status.
CREATE TABLE customer_counts
(
    tenant_id      text   NOT NULL,
    account_status text   NOT NULL,
    customers      integer NOT NULL,
    PRIMARY KEY (tenant_id, account_status)
);
