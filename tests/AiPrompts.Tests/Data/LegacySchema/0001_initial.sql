-- Identity, service API keys and the audit trail.
CREATE TABLE users (
    id              uuid        PRIMARY KEY,
    email           text        NOT NULL,
    display_name    text        NOT NULL,
    password_hash   text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('super_admin', 'admin', 'user')),
    is_disabled     boolean     NOT NULL DEFAULT false,
    security_stamp  uuid        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_login_at   timestamptz NULL,
    CONSTRAINT ck_users_email_normalized CHECK (email = lower(btrim(email)))
);
CREATE UNIQUE INDEX ux_users_email ON users (email);

CREATE TABLE api_keys (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    prefix        text        NOT NULL,
    key_hash      bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NULL,
    revoked_at    timestamptz NULL
);
CREATE UNIQUE INDEX ux_api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id, created_at DESC);

CREATE TABLE audit_logs (
    id             uuid        PRIMARY KEY,
    actor_user_id  uuid        NULL REFERENCES users (id) ON DELETE SET NULL,
    action         text        NOT NULL,
    entity_type    text        NOT NULL,
    entity_id      text        NULL,
    before         jsonb       NULL,
    after          jsonb       NULL,
    trace_id       text        NULL,
    created_at     timestamptz NOT NULL
);
CREATE INDEX ix_audit_logs_created_at ON audit_logs (created_at DESC, id DESC);
CREATE INDEX ix_audit_logs_entity ON audit_logs (entity_type, entity_id);
