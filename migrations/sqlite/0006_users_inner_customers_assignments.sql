-- Customer users, inner customers, and devices, assets, edges and dashboards assigned to
-- customers (seeds 001, 003, 004). Never edit this file once landed: add a new one.

-- Inner customers: the parent, and the ancestors as a path ("/root/…/parent/", "/" at the
-- top) so a subtree is one index range (SQLite compares text bytewise).
ALTER TABLE customers ADD COLUMN parent_id text;
ALTER TABLE customers ADD COLUMN ancestry text NOT NULL DEFAULT '/';
ALTER TABLE customers ADD COLUMN home_dashboard_id text;
ALTER TABLE customers ADD COLUMN hide_toolbar integer NOT NULL DEFAULT 0;
CREATE INDEX customers_by_parent ON customers (tenant_id, parent_id);
CREATE INDEX customers_by_ancestry ON customers (tenant_id, ancestry);

-- Read model: the users of each customer. Only a hash of a pending activation token is kept.
CREATE TABLE customer_users
(
    tenant_id             text    NOT NULL,
    user_id               text    NOT NULL,
    customer_id           text    NOT NULL,
    email                 text    NOT NULL,
    given_name            text,
    family_name           text,
    language              text    NOT NULL,
    user_type             text    NOT NULL,
    activated             integer NOT NULL,
    disabled              integer NOT NULL,
    activation_token_hash text,
    activation_expires_at integer,
    created_at            integer  NOT NULL,
    updated_at            integer  NOT NULL,
    version               integer  NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX customer_users_by_customer ON customer_users (tenant_id, customer_id, email);
CREATE INDEX customer_users_by_token ON customer_users (activation_token_hash);

-- Read model: the owner of every device, asset and edge ever assigned (NULL once
-- unassigned or released); `version` is the entity aggregate's, for idempotence.
CREATE TABLE assigned_entities
(
    tenant_id   text   NOT NULL,
    kind        text   NOT NULL,
    entity_id   text   NOT NULL,
    customer_id text,
    assigned_at integer NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (tenant_id, kind, entity_id)
);
CREATE INDEX assigned_entities_by_customer ON assigned_entities (tenant_id, customer_id, kind, entity_id);

-- Read model: dashboards and the customers they are assigned to (many per dashboard).
CREATE TABLE dashboard_assignments
(
    tenant_id    text    NOT NULL,
    customer_id  text    NOT NULL,
    dashboard_id text    NOT NULL,
    assigned     integer NOT NULL,
    assigned_at  integer  NOT NULL,
    version      integer  NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, dashboard_id)
);

-- Read model: how many entities of each kind a customer has.
CREATE TABLE assignment_counts
(
    tenant_id   text   NOT NULL,
    customer_id text   NOT NULL,
    kind        text   NOT NULL,
    assigned    integer NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, kind)
);
