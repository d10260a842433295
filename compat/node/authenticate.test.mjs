// Sign-in through POST /user_management/authenticate: the password grant
// (unscoped, scoped to the only organization, organization selection), the
// organization-selection grant, the refresh-token grant (rotation, switching
// organization, reuse) and the access-token claims, verified against the
// published JWKS the way the SDK does it.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  publicClient,
  uid,
  uniqueDomain,
  uniqueEmail,
  expectSdkError,
  sdkExceptionName,
  assertAccessToken,
  assertUnscoped,
  assertHasPermissions,
  grantAdminPermissions,
  createPasswordUser,
  PLAIN_PASSWORD,
  CLIENT_ID,
} from './lib/harness.mjs';

const MISSING_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_CLIENT = 'client_01HZZZZZZZZZZZZZZZZZZZZZZZ';

/**
 * Await `promise`, require exactly the SDK class `className` (not a subclass
 * such as AuthenticationException for GenericServerException) with `status`.
 */
async function expectExactSdkError(sdk, promise, className, status) {
  const err = await expectSdkError(sdk, promise, className, status);
  assert.equal(sdkExceptionName(sdk, err), className, `most specific class of ${err.name}`);
  return err;
}

for (const sdk of SDKS) {
  describe(`authenticate (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const u = uid(3);
    let perms; // permissions granted to the `admin` environment role
    let orgA; // "Auth A …": admin membership
    let orgB; // "Auth B …": member membership
    let orgC; // no membership for anyone
    let solo; // no memberships
    let single; // admin of orgA only
    let multi; // admin of orgA, member of orgB

    before(async () => {
      perms = await grantAdminPermissions(workos, 'compat-auth');
      // B is created before A: the selection list must be sorted by name,
      // not by creation order.
      orgB = await workos.organizations.createOrganization({
        name: `Auth B ${u}`,
        domainData: [{ domain: uniqueDomain('authb'), state: 'verified' }],
      });
      orgA = await workos.organizations.createOrganization({
        name: `Auth A ${u}`,
        domainData: [{ domain: uniqueDomain('autha'), state: 'verified' }],
      });
      orgC = await workos.organizations.createOrganization({ name: `Auth C ${u}` });
      solo = await createPasswordUser(workos, 'solo');
      single = await createPasswordUser(workos, 'single');
      multi = await createPasswordUser(workos, 'multi');
      await um.createOrganizationMembership({ organizationId: orgA.id, userId: single.id, roleSlug: 'admin' });
      await um.createOrganizationMembership({ organizationId: orgA.id, userId: multi.id, roleSlug: 'admin' });
      await um.createOrganizationMembership({ organizationId: orgB.id, userId: multi.id });
    });

    // ---- password grant ----------------------------------------------------

    test('authenticateWithPassword without memberships: unscoped session', async () => {
      const res = await um.authenticateWithPassword({ email: solo.email, password: PLAIN_PASSWORD });
      assert.equal(res.user.object, 'user');
      assert.equal(res.user.id, solo.id);
      assert.equal(res.user.email, solo.email);
      assert.equal(res.authenticationMethod, 'Password');
      assert.equal(res.organizationId, undefined, 'organization_id must be omitted');
      assert.equal(typeof res.refreshToken, 'string');
      assert.ok(res.refreshToken.length >= 20, 'refresh token is an opaque string');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: solo.id });
      assertUnscoped(claims);
    });

    test('authenticateWithPassword with one membership: scoped to it, with role and permissions', async () => {
      const res = await um.authenticateWithPassword({ email: single.email, password: PLAIN_PASSWORD });
      assert.equal(res.user.id, single.id);
      assert.equal(res.organizationId, orgA.id);
      assert.equal(res.authenticationMethod, 'Password');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: single.id });
      assert.equal(claims.org_id, orgA.id);
      assert.equal(claims.role, 'admin');
      assert.deepEqual(claims.roles, ['admin']);
      assertHasPermissions(claims, perms);
    });

    test('the user record shows the sign-in (last_sign_in_at)', async () => {
      const got = await um.getUser(single.id);
      assert.ok(got.lastSignInAt, 'last_sign_in_at is set after a sign-in');
    });

    test('wrong password -> GenericServerException 400 invalid_credentials', async (t) => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: single.email, password: `${PLAIN_PASSWORD}-wrong` }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_credentials');
      assert.equal(err.rawData.code, 'invalid_credentials');
      t.diagnostic(`wrong password -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('unknown email -> the same invalid_credentials error', async () => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: uniqueEmail('nobody'), password: PLAIN_PASSWORD }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_credentials');
    });

    test('wrong API key as client_secret -> UnauthorizedException', async () => {
      const bad = client(sdk, { apiKey: `sk_test_wrong_${uid()}`, maxRetries: 0 });
      await expectExactSdkError(
        sdk,
        bad.userManagement.authenticateWithPassword({ email: single.email, password: PLAIN_PASSWORD }),
        'UnauthorizedException',
        401,
      );
    });

    test('unknown client id -> UnauthorizedException', async () => {
      await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ clientId: MISSING_CLIENT, email: single.email, password: PLAIN_PASSWORD }),
        'UnauthorizedException',
        401,
      );
    });

    // ---- organization selection ----------------------------------------------

    let pendingToken;

    test('several memberships -> AuthenticationException organization_selection_required', async (t) => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: multi.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(err.code, 'organization_selection_required');
      assert.equal(typeof err.pendingAuthenticationToken, 'string');
      assert.ok(err.pendingAuthenticationToken.length > 0);
      assert.equal(err.rawData.pending_authentication_token, err.pendingAuthenticationToken);
      assert.deepEqual(err.rawData.organizations, [
        { id: orgA.id, name: orgA.name },
        { id: orgB.id, name: orgB.name },
      ]);
      assert.equal(err.rawData.user?.id, multi.id);
      assert.equal(err.rawData.user?.object, 'user');
      pendingToken = err.pendingAuthenticationToken;
      t.diagnostic(`organization selection -> ${err.name} (HTTP ${err.status}): ${err.message}`);
    });

    test('organization selection of a non-member organization -> OauthException; token stays usable', async (t) => {
      assert.ok(pendingToken, 'depends on the organization_selection_required test');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithOrganizationSelection({ pendingAuthenticationToken: pendingToken, organizationId: orgC.id }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'organization_membership_not_found');
      t.diagnostic(`non-member organization -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
    });

    let multiSession; // { refreshToken, sid } of multi's session in orgB

    test('authenticateWithOrganizationSelection scopes the session to the chosen organization', async () => {
      assert.ok(pendingToken, 'depends on the organization_selection_required test');
      const res = await um.authenticateWithOrganizationSelection({
        pendingAuthenticationToken: pendingToken,
        organizationId: orgB.id,
      });
      assert.equal(res.user.id, multi.id);
      assert.equal(res.organizationId, orgB.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: multi.id });
      assert.equal(claims.org_id, orgB.id);
      assert.equal(claims.role, 'member');
      assert.deepEqual(claims.roles, ['member']);
      multiSession = { refreshToken: res.refreshToken, sid: claims.sid };
    });

    test('the pending authentication token is single use', async (t) => {
      assert.ok(multiSession, 'depends on the organization selection test');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithOrganizationSelection({ pendingAuthenticationToken: pendingToken, organizationId: orgA.id }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_pending_authentication_token');
      t.diagnostic(`reused pending token -> ${err.name} (HTTP ${err.status}, code ${err.code})`);
    });

    test('an unknown pending authentication token is refused', async () => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithOrganizationSelection({
          pendingAuthenticationToken: `not-a-token-${uid()}`,
          organizationId: orgA.id,
        }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_pending_authentication_token');
    });

    // ---- refresh-token grant -----------------------------------------------

    test('authenticateWithRefreshToken rotates the refresh token and keeps the session', async () => {
      assert.ok(multiSession, 'depends on the organization selection test');
      const res = await um.authenticateWithRefreshToken({ refreshToken: multiSession.refreshToken });
      assert.notEqual(res.refreshToken, multiSession.refreshToken, 'refresh token must rotate');
      assert.equal(res.user.id, multi.id);
      assert.equal(res.organizationId, orgB.id, 'the session stays in its organization');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: multi.id, sessionId: multiSession.sid });
      assert.equal(claims.org_id, orgB.id);
      multiSession.refreshToken = res.refreshToken;
    });

    test('authenticateWithRefreshToken with organizationId switches the organization', async () => {
      assert.ok(multiSession, 'depends on the organization selection test');
      const res = await um.authenticateWithRefreshToken({
        refreshToken: multiSession.refreshToken,
        organizationId: orgA.id,
      });
      assert.equal(res.organizationId, orgA.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: multi.id, sessionId: multiSession.sid });
      assert.equal(claims.org_id, orgA.id);
      assert.equal(claims.role, 'admin');
      assert.deepEqual(claims.roles, ['admin']);
      assertHasPermissions(claims, perms);
      multiSession.refreshToken = res.refreshToken;
    });

    test('switching to a non-member organization -> OauthException; the token is not consumed', async (t) => {
      assert.ok(multiSession, 'depends on the organization selection test');
      for (const organizationId of [orgC.id, MISSING_ORG]) {
        const err = await expectExactSdkError(
          sdk,
          um.authenticateWithRefreshToken({ refreshToken: multiSession.refreshToken, organizationId }),
          'OauthException',
          400,
        );
        assert.equal(err.error, 'organization_membership_not_found', `switch to ${organizationId}`);
        t.diagnostic(`refresh into ${organizationId === orgC.id ? 'a non-member' : 'an unknown'} organization -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
      }
      const res = await um.authenticateWithRefreshToken({ refreshToken: multiSession.refreshToken });
      assert.equal(res.organizationId, orgA.id, 'the session is still in organization A');
      multiSession.refreshToken = res.refreshToken;
    });

    test('a public client (no API key, no client_secret) can refresh', async () => {
      assert.ok(multiSession, 'depends on the organization selection test');
      const pub = publicClient(sdk);
      const res = await pub.userManagement.authenticateWithRefreshToken({ refreshToken: multiSession.refreshToken });
      assert.notEqual(res.refreshToken, multiSession.refreshToken);
      await assertAccessToken(workos, res.accessToken, { userId: multi.id, sessionId: multiSession.sid });
      multiSession.refreshToken = res.refreshToken;
    });

    test('refresh token reuse -> OauthException invalid_grant and the session is revoked', async (t) => {
      const login = await um.authenticateWithPassword({ email: solo.email, password: PLAIN_PASSWORD });
      const t0 = login.refreshToken;
      const t1 = (await um.authenticateWithRefreshToken({ refreshToken: t0 })).refreshToken;
      const t2 = (await um.authenticateWithRefreshToken({ refreshToken: t1 })).refreshToken;
      // t0 is two rotations old: no grace, the session is treated as stolen.
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: t0 }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
      t.diagnostic(`refresh token reuse -> ${err.name} (HTTP ${err.status}, error ${err.error}): ${err.errorDescription}`);
      const after = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: t2 }),
        'OauthException',
        400,
      );
      assert.equal(after.error, 'invalid_grant', 'the newest token of a revoked session is dead too');
    });

    test('an unknown refresh token -> OauthException invalid_grant', async () => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: `not-a-token-${uid()}` }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
    });

    test('replaying the previous refresh token right away is honoured once (grace for concurrent refreshes)', async () => {
      const login = await um.authenticateWithPassword({ email: solo.email, password: PLAIN_PASSWORD });
      const t0 = login.refreshToken;
      const first = await um.authenticateWithRefreshToken({ refreshToken: t0 });
      const replay = await um.authenticateWithRefreshToken({ refreshToken: t0 });
      const sid = (await assertAccessToken(workos, first.accessToken, { userId: solo.id })).sid;
      await assertAccessToken(workos, replay.accessToken, { userId: solo.id, sessionId: sid });
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: t0 }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant', 'a second replay is refused');
    });

    test('getJwksUrl points at the server', () => {
      assert.equal(
        um.getJwksUrl(CLIENT_ID),
        `${workos.baseURL}/sso/jwks/${CLIENT_ID}`,
      );
    });
  });
}
