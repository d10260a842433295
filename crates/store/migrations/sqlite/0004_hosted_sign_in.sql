-- Hosted sign-in: browser sign-in flows, authorization codes, one-time email codes, password
-- resets, invitations and the email outbox (SQLite).
-- Secrets are stored as SHA-256 digests for lookup; where the API must show them again (codes,
-- reset and invitation tokens, email bodies) they are also sealed (AES-256-GCM, base64).

CREATE TABLE sign_in_flows (
    id                    TEXT PRIMARY KEY,
    cookie_sha256         TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL,
    state                 TEXT,
    code_challenge        TEXT,
    organization_hint     TEXT,
    invitation_id         TEXT,
    email                 TEXT,
    user_id               TEXT REFERENCES users (id) ON DELETE CASCADE,
    auth_method           TEXT,
    email_verification_id TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_sign_in_flows_cookie_sha256 ON sign_in_flows (cookie_sha256);

CREATE TABLE authorization_codes (
    id              TEXT PRIMARY KEY,
    code_sha256     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT,
    invitation_id   TEXT,
    auth_method     TEXT NOT NULL,
    ip_address      TEXT,
    user_agent      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    session_id      TEXT
);
CREATE UNIQUE INDEX uq_authorization_codes_code_sha256 ON authorization_codes (code_sha256);

CREATE TABLE one_time_codes (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    code_sealed TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX ix_one_time_codes_user ON one_time_codes (user_id, purpose, id);

CREATE TABLE password_resets (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE UNIQUE INDEX uq_password_resets_token_sha256 ON password_resets (token_sha256);

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    organization_id  TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    inviter_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    role_slug        TEXT,
    token_sha256     TEXT NOT NULL,
    token_sealed     TEXT NOT NULL,
    state            TEXT NOT NULL,
    accepted_at      BIGINT,
    revoked_at       BIGINT,
    accepted_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_invitations_token_sha256 ON invitations (token_sha256);
CREATE INDEX ix_invitations_organization ON invitations (organization_id, id);
CREATE INDEX ix_invitations_email ON invitations (email, id);

CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_sealed     TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ix_email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- A pending authentication waits for one step: choosing an organization or verifying the email.
ALTER TABLE pending_authentications ADD COLUMN step TEXT NOT NULL DEFAULT 'organization_selection';
ALTER TABLE pending_authentications ADD COLUMN organization_id TEXT;
