-- Finding customers (issue 19).
--
-- `search_text` now holds every text field of the customer (name, email, given and family
-- name, organization, shortname, customId, seller, title, country, city, address, phone),
-- folded in Rust: lower case, accents dropped. The row below asks the store to recompute
-- it for the rows already there, right after the migrations run (profile/search.rs): it is
-- derived from the row's own columns, so no replay of the log is needed.
--
-- SQLite keeps answering the `text` filter with LIKE over the tenant's rows: an FTS5
-- trigram table would need a stable integer key (the implicit rowid of `customers` may be
-- renumbered by VACUUM) and would keep copies of erased text in its segments.
CREATE TABLE read_model_rewrites
(
    name text PRIMARY KEY
);
INSERT INTO read_model_rewrites (name) VALUES ('customers.search_text.folded');

-- The new sort orders, each a keyset on (tenant, key, id).
CREATE INDEX customers_by_seller ON customers (tenant_id, (coalesce(seller, '')), id);
CREATE INDEX customers_by_account_status ON customers (tenant_id, account_status, id);
CREATE INDEX customers_by_updated ON customers (tenant_id, updated_at, id);
-- The seller filter is case-insensitive.
CREATE INDEX customers_by_seller_lower ON customers (tenant_id, (lower(seller)));
