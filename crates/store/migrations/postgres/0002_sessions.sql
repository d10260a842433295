-- Sessions, refresh tokens, pending authentications and access-token signing keys (PostgreSQL).
-- Secrets are stored as SHA-256 digests; private keys sealed (AES-256-GCM) and base64-encoded.

CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    private_sealed TEXT NOT NULL,
    certificate    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    activates_at   BIGINT NOT NULL,
    retires_at     BIGINT
);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id   TEXT,
    auth_method       TEXT NOT NULL,
    ip_address        TEXT,
    user_agent        TEXT,
    status            TEXT NOT NULL,
    revocation_reason TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    last_active_at    BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    ended_at          BIGINT
);
CREATE INDEX ix_sessions_user ON sessions (user_id, id);
CREATE INDEX ix_sessions_organization ON sessions (organization_id, user_id);

CREATE TABLE refresh_tokens (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    used_at      BIGINT,
    successor_id TEXT,
    grace_used   BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX uq_refresh_tokens_token_sha256 ON refresh_tokens (token_sha256);
CREATE INDEX ix_refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE pending_authentications (
    id           TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_method  TEXT NOT NULL,
    ip_address   TEXT,
    user_agent   TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE UNIQUE INDEX uq_pending_authentications_token_sha256 ON pending_authentications (token_sha256);
