-- OAuth token service: signing keys (private halves encrypted with a key that never enters
-- the database) and revoked access tokens (kept until they would have expired anyway).
-- Keep in step with ../sqlite/0002_oauth.sql.

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    retired_at  BIGINT
);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);
