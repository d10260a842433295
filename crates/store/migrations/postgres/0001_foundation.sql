-- Portico foundation schema (PostgreSQL). Timestamps are milliseconds since the Unix epoch (UTC);
-- JSON values are stored as text. The SQLite tree has the same steps.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    secret_sha256  TEXT NOT NULL,
    display_hint   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT,
    revoked_at     BIGINT
);
CREATE UNIQUE INDEX uq_api_keys_secret_sha256 ON api_keys (secret_sha256);

CREATE TABLE clients (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    redirect_uris   TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL,
    email_verified      BOOLEAN NOT NULL,
    first_name          TEXT,
    last_name           TEXT,
    profile_picture_url TEXT,
    last_sign_in_at     BIGINT,
    locale              TEXT,
    external_id         TEXT,
    metadata            TEXT NOT NULL,
    password_hash       TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_users_email ON users (email);
CREATE UNIQUE INDEX uq_users_external_id ON users (external_id);

CREATE TABLE organizations (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    external_id        TEXT,
    stripe_customer_id TEXT,
    metadata           TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_organizations_external_id ON organizations (external_id);

CREATE TABLE organization_domains (
    id                    TEXT PRIMARY KEY,
    organization_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    domain                TEXT NOT NULL,
    state                 TEXT NOT NULL,
    verification_strategy TEXT NOT NULL,
    verification_token    TEXT,
    verification_prefix   TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_organization_domains_domain ON organization_domains (domain);
CREATE INDEX ix_organization_domains_organization ON organization_domains (organization_id);

CREATE TABLE permissions (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    system      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_permissions_slug ON permissions (slug);

CREATE TABLE roles (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    organization_id TEXT REFERENCES organizations (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- One slug per scope: environment roles share the empty scope, organization roles their org.
CREATE UNIQUE INDEX uq_roles_slug ON roles (COALESCE(organization_id, ''), slug);

CREATE TABLE role_permissions (
    role_id       TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id TEXT NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE organization_memberships (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX uq_organization_memberships_user_org ON organization_memberships (user_id, organization_id);
CREATE INDEX ix_organization_memberships_org ON organization_memberships (organization_id, id);

CREATE TABLE membership_roles (
    membership_id TEXT NOT NULL REFERENCES organization_memberships (id) ON DELETE CASCADE,
    role_id       TEXT NOT NULL REFERENCES roles (id),
    position      BIGINT NOT NULL,
    PRIMARY KEY (membership_id, role_id)
);
CREATE INDEX ix_membership_roles_role ON membership_roles (role_id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    event           TEXT NOT NULL,
    data            TEXT NOT NULL,
    context         TEXT NOT NULL,
    organization_id TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX ix_events_created_at ON events (created_at);
CREATE INDEX ix_events_event ON events (event, id);

CREATE TABLE idempotency_keys (
    api_key_id    TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT,
    response_body TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);
