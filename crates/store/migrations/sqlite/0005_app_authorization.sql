-- App-side authorization: the permission check API and the hosted organization switcher.

-- One row whose version goes up in every transaction that changes what a role permits (a role's
-- permissions, a deleted role or permission). Each node caches role -> permissions and reads this
-- version with every check, so no node answers from a map older than an acknowledged change.
CREATE TABLE authorization_state (
    id      BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO authorization_state (id, version) VALUES (1, 0);

-- A flow started by the organization switcher continues a signed-in session instead of starting
-- a new one; so does the code it ends with.
ALTER TABLE sign_in_flows ADD COLUMN continues_session_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN continues_session_id TEXT;
