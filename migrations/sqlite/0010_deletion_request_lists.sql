-- The tenant-wide list of deletion requests (`deletionRequests(filter: …)`) reads them
-- soonest due first and pages by (due_at, customer_id, request_id): one index range per
-- tenant, with or without a status.
CREATE INDEX deletion_requests_by_due ON deletion_requests (tenant_id, due_at, customer_id, request_id);
CREATE INDEX deletion_requests_open ON deletion_requests (tenant_id, customer_id) WHERE status = 'OPEN';
