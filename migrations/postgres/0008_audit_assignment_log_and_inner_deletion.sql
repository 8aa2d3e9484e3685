-- Which assignment events (devices, assets, edges, dashboards: their own aggregates) name
-- which customer, so that a customer's history can include them without loading every
-- assignment: one row per (customer named, event). A re-assignment names both the new and
-- the previous owner. Written inline by the `assignments` projection; idempotent by key.
-- Events written before this migration are not listed (see README: rebuild `assignments`).
CREATE TABLE customer_assignment_log
(
    tenant_id      text   NOT NULL,
    customer_id    text   NOT NULL,
    aggregate_type text   NOT NULL,
    aggregate_id   text   NOT NULL,
    sequence       bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, aggregate_type, aggregate_id, sequence)
);

-- Whether a deletion request takes the customer's inner customers with it when it falls
-- due (decided when it is made; the rule of a manual deletion). Older requests: false.
ALTER TABLE deletion_requests ADD COLUMN delete_inner_customers boolean NOT NULL DEFAULT false;
