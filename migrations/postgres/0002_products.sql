-- Products (seed 001). Never edit this file once landed: add a new one.

-- Read model: each tenant's catalogue additions and global visibility. Default products
-- have a row once their visibility is first set; until then they are hidden.
CREATE TABLE tenant_products
(
    tenant_id text    NOT NULL,
    product   text    NOT NULL,
    name      text    NOT NULL,
    visible   boolean NOT NULL,
    version   bigint  NOT NULL,
    PRIMARY KEY (tenant_id, product)
);

-- Read model: a customer's own visibility and the status of each of its products.
CREATE TABLE customer_products
(
    tenant_id   text   NOT NULL,
    customer_id text   NOT NULL,
    product     text   NOT NULL,
    visible     boolean,
    status      text,
    version     bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, product)
);

-- Read model: every account-status transition, with the event that caused it.
CREATE TABLE account_status_history
(
    tenant_id     text   NOT NULL,
    customer_id   text   NOT NULL,
    version       bigint NOT NULL,
    from_status   text,
    to_status     text   NOT NULL,
    cause         text   NOT NULL,
    cause_version bigint NOT NULL,
    occurred_at   bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, version)
);
