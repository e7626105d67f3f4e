-- Core schema: organizations, principals (people and service principals), sessions,
-- client drafts, API clients, their secrets and the append-only audit log.
-- Times are Unix milliseconds (UTC). Keep in step with ../postgres/0001_core.sql.

CREATE TABLE organizations (
    id                       TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    m2m_enabled              BOOLEAN NOT NULL DEFAULT FALSE,
    secret_max_lifetime_days BIGINT NOT NULL DEFAULT 730,
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL
);

CREATE TABLE principals (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'service_principal')),
    name          TEXT NOT NULL,
    email         TEXT UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL,
    active        BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX principals_org ON principals(org_id, kind);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES principals(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE client_drafts (
    client_id   TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    person_id   TEXT NOT NULL REFERENCES principals(id),
    client_type TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE api_clients (
    client_id        TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    client_type      TEXT NOT NULL CHECK (client_type IN ('service_account', 'personal')),
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    scopes           TEXT NOT NULL,
    principal_id     TEXT NOT NULL REFERENCES principals(id),
    created_by       TEXT NOT NULL REFERENCES principals(id),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    deleted_at       BIGINT,
    deleted_by       TEXT REFERENCES principals(id),
    revoked_by_admin BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX api_clients_live_name ON api_clients(org_id, client_type, name_key)
    WHERE deleted_at IS NULL;
CREATE INDEX api_clients_org ON api_clients(org_id, client_type);

CREATE TABLE client_secrets (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES api_clients(client_id),
    secret_hash  BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX client_secrets_client ON client_secrets(client_id);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT,
    at          BIGINT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    source_ip   TEXT,
    outcome     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_org ON audit_events(org_id, id);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
