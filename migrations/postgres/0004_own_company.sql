-- The tenant's own company (seed 002). Never edit this file once landed: add a new one.
ALTER TABLE customers ADD COLUMN own_company boolean NOT NULL DEFAULT false;
