// The authorization code flow: getAuthorizationUrl -> /user_management/authorize
// -> the hosted pages (driven over plain HTTP by lib/hosted.mjs: email,
// password, organization choice, email verification) -> redirect_uri?code&state
// -> authenticateWithCodeAndVerifier (public client, PKCE) or
// authenticateWithCode (confidential, API key). Also the refusals: wrong or
// missing code_verifier, replayed code (and the session it issued is
// revoked), untrusted client / redirect URI (an error page, no redirect), and
// OAuth errors sent back to the redirect URI.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  publicClient,
  uid,
  expectExactSdkError,
  assertAccessToken,
  assertUnscoped,
  assertHasPermissions,
  grantAdminPermissions,
  createPasswordUser,
  createUnverifiedUser,
  mailedCode,
  PLAIN_PASSWORD,
  CLIENT_ID,
  PORTICO_URL,
} from './lib/harness.mjs';
import { REDIRECT_URI, browse, CookieJar, formPage, openAuthorizationUrl, signInWithPassword } from './lib/hosted.mjs';

const MISSING_CLIENT = 'client_01HZZZZZZZZZZZZZZZZZZZZZZZ';

for (const sdk of SDKS) {
  describe(`authorization code (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const pub = publicClient(sdk).userManagement;
    const u = uid(3);
    let perms;
    let orgA;
    let orgB;

    before(async () => {
      perms = await grantAdminPermissions(workos, 'compat-code');
      orgA = await workos.organizations.createOrganization({ name: `Code A ${u}` });
      orgB = await workos.organizations.createOrganization({ name: `Code B ${u}` });
    });

    /** A verified user with PLAIN_PASSWORD and the given memberships ([[org, role], …]). */
    async function userIn(tag, memberships = []) {
      const user = await createPasswordUser(workos, tag);
      for (const [org, roleSlug] of memberships) {
        await um.createOrganizationMembership({ organizationId: org.id, userId: user.id, roleSlug });
      }
      return user;
    }

    /** Sign `user` in on the hosted pages; returns `{ code, state, verifier, done }`. */
    async function hostedSignIn(user, { pkce = true, organizationId, verificationCode } = {}) {
      const state = `state-${uid()}`;
      const pair = pkce ? await workos.pkce.generate() : undefined;
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        state,
        ...(pair ? { codeChallenge: pair.codeChallenge, codeChallengeMethod: 'S256' } : {}),
      });
      const flow = await openAuthorizationUrl(url);
      const done = await signInWithPassword(flow, {
        email: user.email,
        password: PLAIN_PASSWORD,
        organizationId,
        verificationCode,
      });
      assert.equal(done.params.get('state'), state, 'state comes back unchanged');
      const code = done.params.get('code');
      assert.ok(code && code.length >= 20, `an opaque code in ${done.location}`);
      return { code, state, verifier: pair?.codeVerifier, done };
    }

    test('getAuthorizationUrl points at /user_management/authorize with the PKCE challenge', async () => {
      const pair = await workos.pkce.generate();
      const url = new URL(
        um.getAuthorizationUrl({
          provider: 'authkit',
          clientId: CLIENT_ID,
          redirectUri: REDIRECT_URI,
          state: 'xyz',
          codeChallenge: pair.codeChallenge,
          codeChallengeMethod: 'S256',
        }),
      );
      assert.equal(`${url.origin}${url.pathname}`, `${PORTICO_URL}/user_management/authorize`);
      assert.equal(url.searchParams.get('client_id'), CLIENT_ID);
      assert.equal(url.searchParams.get('redirect_uri'), REDIRECT_URI);
      assert.equal(url.searchParams.get('response_type'), 'code');
      assert.equal(url.searchParams.get('code_challenge'), pair.codeChallenge);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      const flow = await openAuthorizationUrl(url.href);
      assert.equal(flow.status, 302);
      assert.equal(flow.location, '/sign-in');
      assert.ok(flow.jar.get('portico_flow'), 'the flow cookie is set');
    });

    test("screenHint 'sign-up' starts on the sign-up page", async () => {
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        screenHint: 'sign-up',
      });
      const flow = await openAuthorizationUrl(url);
      assert.equal(flow.status, 302);
      assert.equal(flow.location, '/sign-up');
      const page = await browse(flow.jar, '/sign-up');
      assert.equal(page.status, 200);
    });

    test('public client: authenticateWithCodeAndVerifier -> tokens scoped to the only organization', async () => {
      const user = await userIn('code-single', [[orgA, 'admin']]);
      const { code, verifier, done } = await hostedSignIn(user);
      assert.deepEqual(done.steps, [], 'straight back to the app');
      const res = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: verifier });
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.email, user.email);
      assert.equal(res.authenticationMethod, 'Password');
      assert.equal(res.organizationId, orgA.id);
      assert.equal(typeof res.refreshToken, 'string');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, orgA.id);
      assert.equal(claims.role, 'admin');
      assert.deepEqual(claims.roles, ['admin']);
      assertHasPermissions(claims, perms);
      // The session works like any other: the public client can refresh it.
      const refreshed = await pub.authenticateWithRefreshToken({ refreshToken: res.refreshToken });
      await assertAccessToken(workos, refreshed.accessToken, { userId: user.id, sessionId: claims.sid });
    });

    test('confidential client: authenticateWithCode with the API key and the verifier', async () => {
      const user = await userIn('code-confidential');
      const { code, verifier } = await hostedSignIn(user);
      const res = await um.authenticateWithCode({ code, codeVerifier: verifier });
      assert.equal(res.user.id, user.id);
      assert.equal(res.authenticationMethod, 'Password');
      assert.equal(res.organizationId, undefined);
      assertUnscoped(await assertAccessToken(workos, res.accessToken, { userId: user.id }));
    });

    test('confidential client without PKCE: authenticateWithCode with the API key alone', async () => {
      const user = await userIn('code-no-pkce');
      const { code } = await hostedSignIn(user, { pkce: false });
      const res = await um.authenticateWithCode({ code });
      assert.equal(res.user.id, user.id);
      assert.equal(res.authenticationMethod, 'Password');
    });

    test('several organizations: the choice page, then tokens for the chosen one', async () => {
      const user = await userIn('code-multi', [[orgA, 'admin'], [orgB, 'member']]);
      const { code, verifier, done } = await hostedSignIn(user, { organizationId: orgB.id });
      assert.deepEqual(done.steps, ['/choose-organization']);
      const res = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: verifier });
      assert.equal(res.organizationId, orgB.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, orgB.id);
      assert.equal(claims.role, 'member');
    });

    test('organizationId on the authorization URL skips the choice for a member of it', async () => {
      const user = await userIn('code-org-hint', [[orgA, 'admin'], [orgB, 'member']]);
      const pair = await workos.pkce.generate();
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        organizationId: orgA.id,
        codeChallenge: pair.codeChallenge,
        codeChallengeMethod: 'S256',
      });
      const flow = await openAuthorizationUrl(url);
      const done = await signInWithPassword(flow, { email: user.email, password: PLAIN_PASSWORD });
      assert.deepEqual(done.steps, [], 'no organization choice');
      const code = done.params.get('code');
      const res = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: pair.codeVerifier });
      assert.equal(res.organizationId, orgA.id);
      assert.equal((await assertAccessToken(workos, res.accessToken, { userId: user.id })).role, 'admin');
    });

    test('an unverified user: the verify-email page with the emailed code, then tokens', async () => {
      const user = await createUnverifiedUser(workos, 'code-unverified');
      const { code, verifier, done } = await hostedSignIn(user, {
        verificationCode: async () => (await mailedCode(user.email)).code,
      });
      assert.deepEqual(done.steps, ['/verify-email']);
      const res = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: verifier });
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.emailVerified, true);
      assert.equal((await um.getUser(user.id)).emailVerified, true);
    });

    test('an unverified user cannot choose an organization before verifying the email', async () => {
      const user = await createUnverifiedUser(workos, 'code-unverified-multi');
      await um.createOrganizationMembership({ organizationId: orgA.id, userId: user.id });
      await um.createOrganizationMembership({ organizationId: orgB.id, userId: user.id });
      const pair = await workos.pkce.generate();
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        codeChallenge: pair.codeChallenge,
        codeChallengeMethod: 'S256',
      });
      const { jar, csrf, stopped } = await signInWithPassword(await openAuthorizationUrl(url), {
        email: user.email,
        password: PLAIN_PASSWORD,
        stopAt: '/verify-email',
      });
      assert.equal(stopped, '/verify-email');
      const skipped = await browse(jar, '/choose-organization', { form: { csrf_token: csrf, organization_id: orgA.id } });
      assert.equal(skipped.status, 422, 'the choice is refused');
      assert.equal(skipped.location, null, 'no redirect');
      await formPage(jar, '/verify-email');
      const { code: emailed } = await mailedCode(user.email);
      const verified = await browse(jar, '/verify-email', { form: { csrf_token: csrf, code: emailed } });
      assert.equal(verified.status, 303);
      assert.equal(verified.location, '/choose-organization');
      const chosen = await browse(jar, '/choose-organization', { form: { csrf_token: csrf, organization_id: orgA.id } });
      assert.equal(chosen.status, 303);
      const back = new URL(chosen.location);
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
      const code = back.searchParams.get('code');
      const res = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: pair.codeVerifier });
      assert.equal(res.organizationId, orgA.id);
      assert.equal(res.user.emailVerified, true);
    });

    test('a wrong code_verifier -> OauthException invalid_grant', async (t) => {
      const user = await userIn('code-wrong-verifier');
      const { code } = await hostedSignIn(user);
      const other = await workos.pkce.generate();
      const err = await expectExactSdkError(
        sdk,
        pub.authenticateWithCodeAndVerifier({ code, codeVerifier: other.codeVerifier }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
      t.diagnostic(`wrong code_verifier -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
    });

    test('no code_verifier for a code issued with a challenge -> OauthException invalid_grant', async () => {
      const user = await userIn('code-missing-verifier');
      const { code } = await hostedSignIn(user);
      const err = await expectExactSdkError(sdk, um.authenticateWithCode({ code }), 'OauthException', 400);
      assert.equal(err.error, 'invalid_grant');
    });

    test('a replayed code -> invalid_grant, and the session of the first exchange is revoked', async (t) => {
      const user = await userIn('code-replay');
      const { code, verifier } = await hostedSignIn(user);
      const first = await pub.authenticateWithCodeAndVerifier({ code, codeVerifier: verifier });
      const err = await expectExactSdkError(
        sdk,
        pub.authenticateWithCodeAndVerifier({ code, codeVerifier: verifier }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
      t.diagnostic(`replayed code -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
      const revoked = await expectExactSdkError(
        sdk,
        pub.authenticateWithRefreshToken({ refreshToken: first.refreshToken }),
        'OauthException',
        400,
      );
      assert.equal(revoked.error, 'invalid_grant', 'the first session is revoked');
    });

    test('an unknown code -> OauthException invalid_grant', async () => {
      const pair = await workos.pkce.generate();
      const err = await expectExactSdkError(
        sdk,
        pub.authenticateWithCodeAndVerifier({ code: `not-a-code-${uid()}`, codeVerifier: pair.codeVerifier }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
    });

    test('a hosted form posted without its CSRF token -> 403, and the flow goes on', async () => {
      const user = await userIn('code-csrf');
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        state: 's',
      });
      const flow = await openAuthorizationUrl(url);
      const forged = await browse(flow.jar, '/sign-in', { form: { email: user.email } });
      assert.equal(forged.status, 403);
      const wrong = await browse(flow.jar, '/sign-in', { form: { csrf_token: 'x'.repeat(43), email: user.email } });
      assert.equal(wrong.status, 403);
      const done = await signInWithPassword(flow, { email: user.email, password: PLAIN_PASSWORD });
      assert.ok(done.params.get('code'));
    });

    // ---- /authorize refusals ------------------------------------------------------

    test('an unknown redirect_uri -> 400 error page, no redirect', async () => {
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: `https://evil-${u}.example.com/callback`,
        state: 's',
      });
      const res = await browse(new CookieJar(), url);
      assert.equal(res.status, 400);
      assert.equal(res.location, null, 'no Location header');
      assert.match(res.headers.get('content-type') || '', /^text\/html/);
    });

    test('an unknown client_id -> 400 error page, no redirect', async () => {
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: MISSING_CLIENT,
        redirectUri: REDIRECT_URI,
        state: 's',
      });
      const res = await browse(new CookieJar(), url);
      assert.equal(res.status, 400);
      assert.equal(res.location, null, 'no Location header');
      assert.match(res.headers.get('content-type') || '', /^text\/html/);
    });

    test('an unsupported code_challenge_method -> back to the redirect URI with invalid_request', async () => {
      const state = `s-${uid()}`;
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        state,
        codeChallenge: (await workos.pkce.generate()).codeChallenge,
        codeChallengeMethod: 'plain',
      });
      const res = await browse(new CookieJar(), url);
      assert.equal(res.status, 302);
      const back = new URL(res.location);
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
      assert.equal(back.searchParams.get('error'), 'invalid_request');
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('code'), null);
    });

    test('prompt=none -> back to the redirect URI with login_required', async () => {
      const state = `s-${uid()}`;
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        state,
        prompt: 'none',
      });
      const res = await browse(new CookieJar(), url);
      assert.equal(res.status, 302);
      const back = new URL(res.location);
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT_URI);
      assert.equal(back.searchParams.get('error'), 'login_required');
      assert.equal(back.searchParams.get('state'), state);
    });
  });
}
