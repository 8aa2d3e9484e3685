-- Sign-in (issue 17): passwords and refresh tokens. Never edit this file once landed.

-- The argon2id PHC string of a user's password (from PasswordSet; removed with the user).
ALTER TABLE customer_users ADD COLUMN password_hash text;

-- Refresh tokens, by their SHA-256 (the token itself is never stored). One session (`sid`)
-- is a family of tokens: each refresh uses one (used_at) and issues the next. Using a used
-- one again ends the whole family. Not event-sourced (a refresh is no event), but every
-- end of a session is one (SessionEnded, CustomerUserDisabled, PasswordSet with reset).
-- Times are microseconds since the epoch.
CREATE TABLE refresh_tokens
(
    token_hash  text   NOT NULL PRIMARY KEY,
    tenant_id   text   NOT NULL,
    session_id  text   NOT NULL,
    customer_id text   NOT NULL,
    user_id     text   NOT NULL,
    issued_at   bigint NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint,
    revoked     boolean NOT NULL DEFAULT false
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);
