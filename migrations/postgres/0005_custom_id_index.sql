-- Imports match rows by customId: find a tenant's customer by it without a scan.
-- Never edit this file once landed: add a new one.
CREATE INDEX customers_by_custom_id ON customers (tenant_id, custom_id);
