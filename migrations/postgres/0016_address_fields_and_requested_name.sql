-- More address fields, and the name a customer was asked to have (issue 19).
--
-- `state`, `zip` and `address2` are personal data like `address`: sealed in the log and
-- erased on deletion. `search_text` now holds them too; the row below asks the store to
-- recompute it once for the rows already there, right after the migrations run, as 0015
-- did (profile/search.rs). A row written before this migration has none of them, but a
-- row an instance of the previous release rewrote during an upgrade may have lost them
-- from its search text.
ALTER TABLE customers ADD COLUMN state text;
ALTER TABLE customers ADD COLUMN zip text;
ALTER TABLE customers ADD COLUMN address2 text;
INSERT INTO read_model_rewrites (name) VALUES ('customers.search_text.address_fields');

-- The name asked for when createCustomer with `nameConflict: UNIQUIFY` found it taken and
-- gave the customer a suffixed one instead; null otherwise (and for every existing row).
ALTER TABLE customers ADD COLUMN requested_name text;
