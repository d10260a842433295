// The hosted organization switcher (a Portico extension): the app's backend
// asks for a one-time link for a signed-in session (`POST
// /user_management/sessions/{id}/organization_switch`, plain HTTP: no SDK
// has the call), the browser opens it (driven over plain HTTP by
// lib/hosted.mjs) and lands on /choose-organization, the choice goes back to
// redirect_uri?code&state, and the SDK's authenticateWithCode answers with
// tokens for the SAME session in the chosen organization. Also the
// refusals: wrong client / redirect URI / PKCE method (422 naming the
// field), unknown session (404), ended session (422 naming session_id, and
// links made before the end stop working), a link opened twice.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  ISO_MS,
  expectSdkError,
  assertAccessToken,
  assertHasPermissions,
  grantAdminPermissions,
  createPasswordUser,
  rawRequest,
  PLAIN_PASSWORD,
  PORTICO_URL,
  CLIENT_ID,
} from './lib/harness.mjs';
import { REDIRECT_URI, CookieJar, browse, formPage } from './lib/hosted.mjs';

const MISSING_CLIENT = 'client_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_SESSION = 'session_01HZZZZZZZZZZZZZZZZZZZZZZZ';

/** POST …/organization_switch for `sessionId` (raw HTTP, with the API key). */
function requestSwitch(sessionId, body) {
  return rawRequest('POST', `/user_management/sessions/${sessionId}/organization_switch`, { body });
}

/** The first field a 422 body names. */
function firstField(res) {
  assert.equal(res.status, 422, `expected 422, got ${res.status}: ${res.text}`);
  assert.ok(Array.isArray(res.json?.errors) && res.json.errors.length > 0, `errors in ${res.text}`);
  return res.json.errors[0].field;
}

/** The `<button …>…</button>` of the choice for `organizationId` on the choose-organization page. */
function choiceButton(html, organizationId) {
  const buttons = html.match(/<button\b[\s\S]*?<\/button>/gi) || [];
  return buttons.find((b) => b.includes(`value="${organizationId}"`));
}

for (const sdk of SDKS) {
  describe(`organization switch (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const u = uid(3);
    let perms;
    let orgA;
    let orgB;
    let orgC; // the user is not a member

    before(async () => {
      perms = await grantAdminPermissions(workos, 'compat-switch');
      orgA = await workos.organizations.createOrganization({ name: `Switch A ${u}` });
      orgB = await workos.organizations.createOrganization({ name: `Switch B ${u}` });
      orgC = await workos.organizations.createOrganization({ name: `Switch C ${u}` });
    });

    /**
     * A user who is a member of orgA only signs in with the password grant
     * (scoped to orgA), then also joins orgB as admin. Returns the user, the
     * sign-in response and its session id.
     */
    async function signedInUser(tag) {
      const user = await createPasswordUser(workos, tag);
      await um.createOrganizationMembership({ organizationId: orgA.id, userId: user.id, roleSlug: 'member' });
      const signIn = await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD });
      assert.equal(signIn.organizationId, orgA.id);
      const { sid } = await assertAccessToken(workos, signIn.accessToken, { userId: user.id });
      await um.createOrganizationMembership({ organizationId: orgB.id, userId: user.id, roleSlug: 'admin' });
      return { user, signIn, sid };
    }

    /** Open a switch link in a fresh browser: requires the 302 to /choose-organization. */
    async function openLink(url) {
      const jar = new CookieJar();
      const opened = await browse(jar, url);
      assert.equal(opened.status, 302, `opening the link: ${opened.status} ${opened.text.slice(0, 300)}`);
      assert.equal(opened.location, '/choose-organization');
      assert.ok(jar.get('portico_flow'), 'the link sets the portico_flow cookie');
      return jar;
    }

    /** Choose `organizationId` on the page: requires the 303 back to the redirect URI; returns its query. */
    async function choose(jar, csrf, organizationId) {
      const chosen = await browse(jar, '/choose-organization', { form: { csrf_token: csrf, organization_id: organizationId } });
      assert.equal(chosen.status, 303, `POST /choose-organization: ${chosen.status} ${chosen.text.slice(0, 300)}`);
      assert.ok(chosen.location?.startsWith(`${REDIRECT_URI}?`), `back to the app: ${chosen.location}`);
      return new URL(chosen.location).searchParams;
    }

    test('switch with PKCE: the choice page, then tokens for the same session in the chosen organization', async () => {
      const { user, sid } = await signedInUser('switch');
      const state = `state-${uid()}`;
      const pair = await workos.pkce.generate();
      const askedAt = Date.now();
      const link = await requestSwitch(sid, {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        state,
        code_challenge: pair.codeChallenge,
        code_challenge_method: 'S256',
      });
      assert.equal(link.status, 201, link.text);
      assert.equal(link.json.object, 'organization_switch');
      assert.equal(link.json.session_id, sid);
      assert.ok(link.json.url.startsWith(`${PORTICO_URL}/switch-organization?token=`), link.json.url);
      assert.match(String(link.json.expires_at), ISO_MS, 'expires_at');
      const expiresAt = Date.parse(link.json.expires_at);
      assert.ok(expiresAt > askedAt && expiresAt <= Date.now() + 10 * 60_000, `expires_at ${link.json.expires_at}`);

      const jar = await openLink(link.json.url);
      const { page, csrf } = await formPage(jar, '/choose-organization');
      const buttonA = choiceButton(page.text, orgA.id);
      const buttonB = choiceButton(page.text, orgB.id);
      assert.ok(buttonA && buttonA.includes(orgA.name), 'orgA is offered');
      assert.ok(buttonB && buttonB.includes(orgB.name), 'orgB is offered');
      assert.equal(choiceButton(page.text, orgC.id), undefined, 'an organization the user is not in is not offered');
      assert.match(buttonA, /class="badge"/, "the session's organization is marked");
      assert.doesNotMatch(buttonB, /class="badge"/, 'the other organization is not marked');

      // The link works once.
      const again = await browse(new CookieJar(), link.json.url);
      assert.equal(again.status, 400, 'a used link is refused');
      assert.equal(again.location, null, 'no redirect');
      assert.match(again.headers.get('content-type') || '', /^text\/html/);

      // Not a member: refused on the page, the flow goes on.
      const refused = await browse(jar, '/choose-organization', { form: { csrf_token: csrf, organization_id: orgC.id } });
      assert.equal(refused.status, 422, 'choosing a non-member organization is refused');
      assert.equal(refused.location, null, 'no redirect');

      const params = await choose(jar, csrf, orgB.id);
      assert.equal(params.get('state'), state, 'state comes back unchanged');
      const code = params.get('code');
      assert.ok(code && code.length >= 20, 'an opaque code');

      const res = await um.authenticateWithCode({ clientId: CLIENT_ID, code, codeVerifier: pair.codeVerifier });
      assert.equal(res.user.id, user.id);
      assert.equal(res.organizationId, orgB.id, 'scoped to the chosen organization');
      assert.equal(typeof res.refreshToken, 'string');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id, sessionId: sid });
      assert.equal(claims.org_id, orgB.id);
      assert.equal(claims.role, 'admin');
      assertHasPermissions(claims, perms);

      // The new refresh token keeps the session in the new organization.
      const refreshed = await um.authenticateWithRefreshToken({ refreshToken: res.refreshToken });
      assert.equal(refreshed.organizationId, orgB.id);
      const after = await assertAccessToken(workos, refreshed.accessToken, { userId: user.id, sessionId: sid });
      assert.equal(after.org_id, orgB.id);

      // Still one session, now in orgB.
      const sessions = await (await um.listSessions(user.id)).autoPagination();
      assert.deepEqual(sessions.map((s) => s.id), [sid], 'no second session');
      assert.equal(sessions[0].status, 'active');
      assert.equal(sessions[0].organizationId, orgB.id);

      // The code is single use.
      const replay = await expectSdkError(
        sdk,
        um.authenticateWithCode({ clientId: CLIENT_ID, code, codeVerifier: pair.codeVerifier }),
        'OauthException',
        400,
      );
      assert.equal(replay.error, 'invalid_grant');
    });

    test('switch without PKCE or state: the API key alone exchanges the code', async () => {
      const { user, sid } = await signedInUser('switch-plain');
      const link = await requestSwitch(sid, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI });
      assert.equal(link.status, 201, link.text);
      const jar = await openLink(link.json.url);
      const { csrf } = await formPage(jar, '/choose-organization');
      const params = await choose(jar, csrf, orgB.id);
      assert.equal(params.get('state'), null, 'no state asked, none sent');
      const res = await um.authenticateWithCode({ clientId: CLIENT_ID, code: params.get('code') });
      assert.equal(res.organizationId, orgB.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id, sessionId: sid });
      assert.equal(claims.org_id, orgB.id);

      // And back: a second link from the same session, now marked in orgB.
      const back = await requestSwitch(sid, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, state: 'back' });
      assert.equal(back.status, 201, back.text);
      const jar2 = await openLink(back.json.url);
      const { page, csrf: csrf2 } = await formPage(jar2, '/choose-organization');
      assert.match(choiceButton(page.text, orgB.id) || '', /class="badge"/, 'orgB is now the current one');
      const params2 = await choose(jar2, csrf2, orgA.id);
      assert.equal(params2.get('state'), 'back');
      const res2 = await um.authenticateWithCode({ clientId: CLIENT_ID, code: params2.get('code') });
      assert.equal(res2.organizationId, orgA.id);
      const claims2 = await assertAccessToken(workos, res2.accessToken, { userId: user.id, sessionId: sid });
      assert.equal(claims2.org_id, orgA.id);
      assert.equal(claims2.role, 'member');
    });

    // ---- refusals -------------------------------------------------------------

    test('a wrong or missing client_id -> 422 naming client_id', async () => {
      const { sid } = await signedInUser('switch-client');
      for (const body of [{ redirect_uri: REDIRECT_URI }, { client_id: MISSING_CLIENT, redirect_uri: REDIRECT_URI }]) {
        assert.equal(firstField(await requestSwitch(sid, body)), 'client_id', JSON.stringify(body));
      }
    });

    test('a redirect_uri the client does not allow -> 422 naming redirect_uri', async () => {
      const { sid } = await signedInUser('switch-redirect');
      for (const redirectUri of [undefined, `https://evil-${u}.example.com/callback`, `${REDIRECT_URI}/`]) {
        const res = await requestSwitch(sid, { client_id: CLIENT_ID, redirect_uri: redirectUri });
        assert.equal(firstField(res), 'redirect_uri', String(redirectUri));
      }
    });

    test('a code_challenge_method other than S256 -> 422 naming it', async () => {
      const { sid } = await signedInUser('switch-pkce');
      const { codeChallenge } = await workos.pkce.generate();
      const res = await requestSwitch(sid, {
        client_id: CLIENT_ID,
        redirect_uri: REDIRECT_URI,
        code_challenge: codeChallenge,
        code_challenge_method: 'plain',
      });
      assert.equal(firstField(res), 'code_challenge_method');
    });

    test('an unknown session -> 404', async () => {
      const res = await requestSwitch(MISSING_SESSION, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI });
      assert.equal(res.status, 404, res.text);
    });

    test('an ended session: earlier links stop working, new ones -> 422 naming session_id', async () => {
      const { sid } = await signedInUser('switch-ended');
      const link = await requestSwitch(sid, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI });
      assert.equal(link.status, 201, link.text);
      await um.revokeSession({ sessionId: sid });
      const opened = await browse(new CookieJar(), link.json.url);
      assert.equal(opened.status, 400, 'a link of an ended session is refused');
      assert.equal(opened.location, null, 'no redirect');
      const refused = await requestSwitch(sid, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI });
      assert.equal(firstField(refused), 'session_id');
    });

    test('the switcher page without a token -> 400 error page', async () => {
      for (const target of ['/switch-organization', `/switch-organization?token=not-a-token-${uid()}`]) {
        const res = await browse(new CookieJar(), target);
        assert.equal(res.status, 400, target);
        assert.equal(res.location, null, 'no redirect');
      }
    });
  });
}
