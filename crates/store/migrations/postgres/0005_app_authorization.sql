-- App-side authorization: the permission check API and the hosted organization switcher.

-- The authorization version is the sum of these counters; every transaction that changes what a
-- membership holds (its roles, status or existence) or what a role permits raises one of them.
-- Each node caches memberships and roles and reads the sum (once per batch of concurrent checks)
-- before answering, so no node answers from a cache older than an acknowledged change. Several
-- rows, so that concurrent writers (bulk provisioning) do not all queue on one row lock.
CREATE TABLE authorization_state (
    id      BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO authorization_state (id, version) VALUES
    (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0),
    (8, 0), (9, 0), (10, 0), (11, 0), (12, 0), (13, 0), (14, 0), (15, 0);

-- A flow started by the organization switcher continues a signed-in session instead of starting
-- a new one; so does the code it ends with.
ALTER TABLE sign_in_flows ADD COLUMN continues_session_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN continues_session_id TEXT;
