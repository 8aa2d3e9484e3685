-- More address fields, and the name a customer was asked to have (issue 19).
--
-- `state`, `zip` and `address2` are personal data like `address`: sealed in the log and
-- erased on deletion. Every row already here was written before they existed, so each is
-- null in every one of them; `search_text` (which now also holds them) is therefore
-- already right for those rows, and no `read_model_rewrites` row is needed.
ALTER TABLE customers ADD COLUMN state text;
ALTER TABLE customers ADD COLUMN zip text;
ALTER TABLE customers ADD COLUMN address2 text;

-- The name asked for when createCustomer with `nameConflict: UNIQUIFY` found it taken and
-- gave the customer a suffixed one instead; null otherwise (and for every existing row).
ALTER TABLE customers ADD COLUMN requested_name text;
