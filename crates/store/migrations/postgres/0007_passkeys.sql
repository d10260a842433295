-- Passkeys (WebAuthn credentials) and the ceremonies that register and use them.

-- A user's passkey. `credential_id` and `public_key` (the COSE key the authenticator sent) are
-- base64url; `sign_count` is the authenticator's signature counter, 0 for synced passkeys.
CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   TEXT NOT NULL UNIQUE,
    public_key      TEXT NOT NULL,
    algorithm       BIGINT NOT NULL,
    sign_count      BIGINT NOT NULL,
    aaguid          TEXT NOT NULL,
    name            TEXT NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backed_up       BOOLEAN NOT NULL,
    transports      TEXT NOT NULL,
    last_used_at    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX ix_passkeys_user ON passkeys (user_id, id);

-- A registration or sign-in started on one node and finished on any: the challenge the browser
-- signs, bound to the hosted flow that asked for it, used once.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    flow_id    TEXT NOT NULL REFERENCES sign_in_flows (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    challenge  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_webauthn_ceremonies_flow ON webauthn_ceremonies (flow_id);
CREATE INDEX ix_webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);

-- What a hosted flow is for: signing in (and the organization switcher), or managing the
-- signed-in user's passkeys.
ALTER TABLE sign_in_flows ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign_in';
