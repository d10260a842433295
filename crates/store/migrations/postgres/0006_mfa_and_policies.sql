-- Second factors (TOTP), recovery codes, organization policies and their reminders.

-- A TOTP factor. The secret is sealed (AES-256-GCM); `last_used_step` is the last 30-second step
-- a code was accepted for, so one code cannot be used twice. A factor counts for sign-in once a
-- code from it was verified (`verified_at`); until then it is an enrollment in progress.
CREATE TABLE auth_factors (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    factor_type    TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    account        TEXT NOT NULL,
    secret_sealed  TEXT NOT NULL,
    last_used_step BIGINT,
    verified_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX ix_auth_factors_user ON auth_factors (user_id, id);

CREATE TABLE auth_challenges (
    id          TEXT PRIMARY KEY,
    factor_id   TEXT NOT NULL REFERENCES auth_factors (id) ON DELETE CASCADE,
    attempts    BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    verified_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX ix_auth_challenges_factor ON auth_challenges (factor_id);

-- One-time recovery codes, stored as SHA-256 of the code (they are random, 50+ bits each).
CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_sha256 TEXT NOT NULL,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX ix_recovery_codes_user ON recovery_codes (user_id);

-- An organization's sign-in policy (JSON written by the domain's policy type).
CREATE TABLE organization_policies (
    organization_id TEXT PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    policy          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Reminders to members who have no second factor while an MFA grace period runs. A worker on
-- any node claims due rows; the member's compliance is checked again when the reminder is sent.
CREATE TABLE policy_reminders (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    due_at          BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ix_policy_reminders_due ON policy_reminders (due_at) WHERE sent_at IS NULL;

-- What a session, a pending authentication and a hosted flow proved beyond the first factor.
ALTER TABLE sessions ADD COLUMN mfa_verified_at BIGINT;
ALTER TABLE pending_authentications ADD COLUMN mfa_verified_at BIGINT;
ALTER TABLE pending_authentications ADD COLUMN continues_session_id TEXT;
ALTER TABLE sign_in_flows ADD COLUMN mfa_verified_at BIGINT;
ALTER TABLE authorization_codes ADD COLUMN mfa_verified_at BIGINT;
-- The organization chosen while a second factor is still owed, and the factor being enrolled.
ALTER TABLE sign_in_flows ADD COLUMN pending_organization_id TEXT;
ALTER TABLE sign_in_flows ADD COLUMN enrolling_factor_id TEXT;
