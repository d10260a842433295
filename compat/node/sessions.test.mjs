// Sessions: sealed session cookies (`session: { sealSession }`,
// `loadSealedSession().authenticate() / .refresh() / .getLogoutUrl()`), the
// browser-facing logout URL, listSessions, revokeSession, and the JWKS the
// tokens are verified with.

import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueDomain,
  idPattern,
  ISO_MS,
  expectSdkError,
  sdkExceptionName,
  assertAccessToken,
  assertHasPermissions,
  grantAdminPermissions,
  createPasswordUser,
  fetchNoRedirect,
  rawRequest,
  RETURN_TO_ORIGIN,
  PLAIN_PASSWORD,
  PORTICO_URL,
  CLIENT_ID,
} from './lib/harness.mjs';

// iron-webcrypto needs at least 32 characters.
const COOKIE_PASSWORD = `compat-cookie-password-${uid(16)}`;

function assertSession(s, what = 'session') {
  assert.equal(s.object, 'session', `${what}.object`);
  assert.match(s.id, idPattern('session'), `${what}.id`);
  assert.match(s.userId, idPattern('user'), `${what}.user_id`);
  assert.equal(s.authMethod, 'password', `${what}.auth_method`);
  assert.ok(['active', 'expired', 'revoked'].includes(s.status), `${what}.status ${s.status}`);
  assert.ok(s.ipAddress === null || typeof s.ipAddress === 'string', `${what}.ip_address`);
  assert.ok(s.userAgent === null || typeof s.userAgent === 'string', `${what}.user_agent`);
  assert.match(String(s.expiresAt), ISO_MS, `${what}.expires_at`);
  assert.ok(s.endedAt === null || ISO_MS.test(s.endedAt), `${what}.ended_at ${s.endedAt}`);
  assert.match(String(s.createdAt), ISO_MS, `${what}.created_at`);
  assert.match(String(s.updatedAt), ISO_MS, `${what}.updated_at`);
  assert.ok(s.expiresAt > s.createdAt, `${what}.expires_at after created_at`);
}

async function listAllSessions(workos, userId) {
  const page = await workos.userManagement.listSessions(userId);
  assert.equal(page.object, 'list');
  assert.ok(page.listMetadata, 'list_metadata must be present');
  return page.autoPagination();
}

/** After logout / revoke: the session is either gone from the list or marked revoked with ended_at. */
async function assertRevokedInList(workos, userId, sessionId) {
  const all = await listAllSessions(workos, userId);
  const s = all.find((x) => x.id === sessionId);
  if (s) {
    assert.equal(s.status, 'revoked', `status of ${sessionId}`);
    assert.match(String(s.endedAt), ISO_MS, 'ended_at is set on a revoked session');
  }
}

for (const sdk of SDKS) {
  describe(`sessions (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    let perms;
    let org;
    let user; // admin of `org`

    before(async () => {
      perms = await grantAdminPermissions(workos, 'compat-sess');
      org = await workos.organizations.createOrganization({
        name: `Sessions ${uid(3)}`,
        domainData: [{ domain: uniqueDomain('sessions'), state: 'verified' }],
      });
      user = await createPasswordUser(workos, 'sessions');
      await um.createOrganizationMembership({ organizationId: org.id, userId: user.id, roleSlug: 'admin' });
    });

    /** Sign `user` in with a sealed session; returns `{ res, sid }`. */
    async function signInSealed() {
      const res = await um.authenticateWithPassword({
        email: user.email,
        password: PLAIN_PASSWORD,
        session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
      });
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      return { res, sid: claims.sid };
    }

    // ---- sealed sessions -----------------------------------------------------

    let sealed; // { res, sid }
    let refreshedSessionData;

    test('authenticateWithPassword with sealSession returns a sealed session', async () => {
      sealed = await signInSealed();
      assert.equal(typeof sealed.res.sealedSession, 'string');
      assert.ok(sealed.res.sealedSession.startsWith('Fe26.2*'), 'iron-sealed cookie');
      assert.equal(sealed.res.organizationId, org.id);
    });

    test('loadSealedSession().authenticate() reads organization, role and permissions', async () => {
      assert.ok(sealed, 'depends on the sealed sign-in');
      const session = um.loadSealedSession({ sessionData: sealed.res.sealedSession, cookiePassword: COOKIE_PASSWORD });
      const auth = await session.authenticate();
      assert.equal(auth.authenticated, true, `authenticate(): ${JSON.stringify(auth)}`);
      assert.equal(auth.sessionId, sealed.sid);
      assert.equal(auth.organizationId, org.id);
      assert.equal(auth.role, 'admin');
      assert.deepEqual(auth.roles, ['admin']);
      assertHasPermissions(auth, perms);
      assert.equal(auth.user.id, user.id);
      assert.equal(auth.authenticationMethod, 'Password');
      assert.equal(auth.accessToken, sealed.res.accessToken);
    });

    test('loadSealedSession().refresh() rotates tokens; the refreshed cookie authenticates', async () => {
      assert.ok(sealed, 'depends on the sealed sign-in');
      const session = um.loadSealedSession({ sessionData: sealed.res.sealedSession, cookiePassword: COOKIE_PASSWORD });
      const refreshed = await session.refresh();
      assert.equal(refreshed.authenticated, true, `refresh(): ${JSON.stringify({ ...refreshed, error: String(refreshed.error) })}`);
      assert.equal(typeof refreshed.sealedSession, 'string');
      assert.notEqual(refreshed.sealedSession, sealed.res.sealedSession);
      assert.equal(refreshed.sessionId, sealed.sid, 'refresh keeps the session');
      assert.equal(refreshed.organizationId, org.id);
      assert.equal(refreshed.role, 'admin');
      assertHasPermissions(refreshed, perms);
      assert.notEqual(refreshed.session.refreshToken, sealed.res.refreshToken, 'refresh token rotated');

      const again = await um
        .loadSealedSession({ sessionData: refreshed.sealedSession, cookiePassword: COOKIE_PASSWORD })
        .authenticate();
      assert.equal(again.authenticated, true, `authenticate() after refresh: ${JSON.stringify(again)}`);
      assert.equal(again.sessionId, sealed.sid);
      assert.equal(again.organizationId, org.id);
      refreshedSessionData = refreshed.sealedSession;
    });

    test('getLogoutUrl() -> 302 to return_to, then the session cannot refresh', async () => {
      assert.ok(refreshedSessionData, 'depends on the refresh test');
      const session = um.loadSealedSession({ sessionData: refreshedSessionData, cookiePassword: COOKIE_PASSWORD });
      const returnTo = `${RETURN_TO_ORIGIN}/signed-out?from=${uid(3)}`;
      const logoutUrl = await session.getLogoutUrl({ returnTo });
      const parsed = new URL(logoutUrl);
      assert.equal(parsed.origin, new URL(PORTICO_URL).origin);
      assert.equal(parsed.pathname, '/user_management/sessions/logout');
      assert.equal(parsed.searchParams.get('session_id'), sealed.sid);
      assert.equal(parsed.searchParams.get('return_to'), returnTo);

      const res = await fetchNoRedirect(logoutUrl);
      assert.equal(res.status, 302, `logout answered ${res.status}: ${res.text}`);
      assert.equal(res.location, returnTo);

      const after = await session.refresh();
      assert.equal(after.authenticated, false, 'refresh after logout must fail');
      assert.equal(after.reason, 'invalid_grant');
      await assertRevokedInList(workos, user.id, sealed.sid);
    });

    test('logout with a return_to outside the client origins -> 422; the session survives', async () => {
      const { res, sid } = await signInSealed();
      const logoutUrl = um.getLogoutUrl({ sessionId: sid, returnTo: `https://evil-${uid(3)}.example.com/` });
      const answer = await fetchNoRedirect(logoutUrl);
      assert.equal(answer.status, 422, `logout answered ${answer.status}: ${answer.text}`);
      assert.match(answer.headers.get('content-type') || '', /application\/json/);
      const refreshed = await um
        .loadSealedSession({ sessionData: res.sealedSession, cookiePassword: COOKIE_PASSWORD })
        .refresh();
      assert.equal(refreshed.authenticated, true, 'a refused logout must not revoke the session');
    });

    test('logout without session_id -> 422', async () => {
      const answer = await fetchNoRedirect(`${PORTICO_URL}/user_management/sessions/logout`);
      assert.equal(answer.status, 422, `logout answered ${answer.status}: ${answer.text}`);
    });

    // ---- listSessions / revokeSession ----------------------------------------

    test('listSessions lists the user\'s sessions', async () => {
      const { sid } = await signInSealed();
      const all = await listAllSessions(workos, user.id);
      for (const s of all) assertSession(s, `session ${s.id}`);
      assert.ok(all.every((s) => s.userId === user.id), 'only this user\'s sessions');
      const mine = all.find((s) => s.id === sid);
      assert.ok(mine, `session ${sid} is listed`);
      assert.equal(mine.status, 'active');
      assert.equal(mine.endedAt, null);
      assert.equal(mine.organizationId, org.id);
    });

    test('revokeSession ends the session: refresh -> OauthException invalid_grant', async (t) => {
      const { res, sid } = await signInSealed();
      await um.revokeSession({ sessionId: sid });
      const err = await expectSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: res.refreshToken }),
        'OauthException',
        400,
      );
      assert.equal(sdkExceptionName(sdk, err), 'OauthException');
      assert.equal(err.error, 'invalid_grant');
      t.diagnostic(`refresh of a revoked session -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
      await assertRevokedInList(workos, user.id, sid);
    });

    test('revokeSession of an unknown session -> 4xx', async (t) => {
      let err;
      try {
        await um.revokeSession({ sessionId: 'session_01HZZZZZZZZZZZZZZZZZZZZZZZ' });
      } catch (e) {
        err = e;
      }
      // WorkOS does not document this case; record what happens.
      t.diagnostic(`revoke of an unknown session -> ${err ? `${sdkExceptionName(sdk, err)} (HTTP ${err.status})` : 'accepted'}`);
      if (err) assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}`);
    });

    test('listSessions of an unknown user -> NotFoundException', async () => {
      await expectSdkError(sdk, um.listSessions('user_01HZZZZZZZZZZZZZZZZZZZZZZZ'), 'NotFoundException', 404);
    });

    // ---- JWKS -----------------------------------------------------------------

    test('the JWKS at getJwksUrl publishes the signing key with every field', async () => {
      assert.ok(sealed, 'depends on the sealed sign-in');
      const jwksUrl = um.getJwksUrl(CLIENT_ID);
      assert.equal(jwksUrl, `${PORTICO_URL}/sso/jwks/${CLIENT_ID}`);
      const res = await fetch(jwksUrl); // public: no API key
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') || '', /application\/json/);
      const { keys } = await res.json();
      assert.ok(Array.isArray(keys) && keys.length > 0, 'keys');
      for (const k of keys) {
        assert.equal(k.alg, 'RS256');
        assert.equal(k.kty, 'RSA');
        assert.equal(k.use, 'sig');
        for (const field of ['kid', 'n', 'e', 'x5t#S256']) assert.equal(typeof k[field], 'string', field);
        assert.ok(Array.isArray(k.x5c) && k.x5c.length > 0 && typeof k.x5c[0] === 'string', 'x5c');
        // The certificate carries the same key, and x5t#S256 is its SHA-256 thumbprint.
        const der = Buffer.from(k.x5c[0], 'base64');
        const certJwk = new X509Certificate(der).publicKey.export({ format: 'jwk' });
        assert.equal(certJwk.n, k.n, `x5c key matches n (kid ${k.kid})`);
        assert.equal(certJwk.e, k.e, `x5c key matches e (kid ${k.kid})`);
        assert.equal(k['x5t#S256'], createHash('sha256').update(der).digest('base64url'), 'x5t#S256');
      }
      const kid = JSON.parse(Buffer.from(sealed.res.accessToken.split('.')[0], 'base64url')).kid;
      assert.ok(keys.some((k) => k.kid === kid), `the token's kid ${kid} is published`);
    });

    test('JWKS of an unknown client -> 404', async () => {
      const res = await rawRequest('GET', '/sso/jwks/client_01HZZZZZZZZZZZZZZZZZZZZZZZ');
      assert.equal(res.status, 404);
    });
  });
}
