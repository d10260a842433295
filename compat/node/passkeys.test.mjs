// Passkeys on the hosted pages, seen from the SDKs: a software authenticator
// (compat/lib/webauthn.mjs) stands in for the browser's, and lib/hosted.mjs
// drives the pages over plain HTTP, including `POST /passkeys/options` (the
// ceremony the pages' script asks for) and the forms that post the answer in
// their `credential` field.
//
// A passkey is registered on the passkeys page (a one-time link the app asks
// for with `POST /user_management/sessions/{id}/passkey_settings`, plain HTTP:
// no SDK has the call) or, when an organization requires MFA, on the set-up
// page instead of an authenticator app. It then signs in from the first page
// with no email typed; the code exchange through the SDK
// (`authenticateWithCode`) says `Passkey`, and a passkey counts as both
// factors, so it satisfies the organization's MFA rule on its own. The
// password grant cannot use a passkey: for a user whose only second factor is
// a passkey it still answers `mfa_challenge` (AuthenticationException) with no
// authenticator apps to offer; an enrollment would let the password alone add
// a factor in the passkey's place. The `authentication.passkey_*` events must come out
// of `events.listEvents` deserialized. A passkey signed for another origin (a
// phishing page) and one the app's backend removed (`DELETE
// /user_management/passkeys/{id}`, plain HTTP) are refused with a 400 page.
//
// Passkeys belong to an origin: compat/run.sh configures them for
// PORTICO_PASSKEY_URL (http://localhost:PORT, RP ID localhost), and the hosted
// pages offer them only there (a browser refuses passkeys on an IP address).
// So the browsers here are on that origin (the authorization URL and the
// passkeys link the API makes on PORTICO_URL are moved to it, as the browser
// tests do), clientDataJSON names it, and the pages must show the passkey
// forms; the API calls stay on PORTICO_URL. Each browser sends a user agent
// of its own, which is how a test finds its events.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  idPattern,
  ISO_MS,
  expectExactSdkError,
  assertAccessToken,
  rawRequest,
  eventually,
  PLAIN_PASSWORD,
  PORTICO_URL,
  CLIENT_ID,
  RETURN_TO_ORIGIN,
} from './lib/harness.mjs';
import {
  REDIRECT_URI,
  CookieJar,
  browse,
  formPage,
  onOrigin,
  passkeyOptions,
  signInWithPassword,
} from './lib/hosted.mjs';
import { Authenticator, b64url, fromB64url } from '../lib/webauthn.mjs';

const PASSKEY_ORIGIN = new URL(process.env.PORTICO_PASSKEY_URL || PORTICO_URL.replace('//127.0.0.1', '//localhost'))
  .origin;
const RP_ID = new URL(PASSKEY_ORIGIN).hostname;
const PHISHING_ORIGIN = 'https://evil.example';
/** How long a ceremony's challenge lives (the options' `timeout`): 5 minutes. */
const CEREMONY_TIMEOUT_MS = 5 * 60 * 1000;
/** The tests' address as the server sees it (recorded in the events). */
const CLIENT_IP = '127.0.0.1';
// The refusals the first page shows (crates/app/locales/en.toml, passkey_failed / passkey_unknown).
const FAILED_TEXT = 'That passkey could not be used.';
const UNKNOWN_TEXT = 'This passkey is not registered to an account here.';
/** What the software authenticator reports (a platform passkey, also usable from a phone). */
const TRANSPORTS = ['internal', 'hybrid'];

/**
 * A Chrome-on-Linux user agent unique to one test: Portico names a passkey
 * after the browser that made it, and records the agent in its events.
 */
function browserAgent(tag) {
  return (
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ' +
    `Chrome/126.0.0.0 Safari/537.36 compat-${tag}-${uid()}`
  );
}

/** A browser on the passkey origin. */
function newBrowser(userAgent) {
  const jar = new CookieJar();
  jar.userAgent = userAgent;
  jar.origin = PASSKEY_ORIGIN;
  return jar;
}

/** The page has the passkey form its script drives (posting to `action`). */
function offers(page, action, purpose) {
  assert.ok(
    page.text.includes(`action="${action}" data-passkey="${purpose}"`),
    `no passkey form for ${action}: ${page.text}`,
  );
  assert.ok(!page.text.includes('id="passkeys-unavailable"'), 'passkeys are available on this origin');
}

/** The options of a new ceremony for the page's flow (200, not cached). */
async function options(jar, csrf, purpose) {
  const flowCookie = jar.get('portico_flow');
  assert.ok(flowCookie, 'the browser is in a flow');
  // The hidden `flow` field is the flow cookie's tag: the first 16 hex digits of its SHA-256.
  assert.equal(jar.flowTag, createHash('sha256').update(flowCookie).digest('hex').slice(0, 16));
  const res = await passkeyOptions(jar, csrf, purpose);
  assert.equal(res.status, 200, `options for ${purpose}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  assert.equal(res.headers.get('cache-control'), 'no-store', 'a challenge is never cached');
  const opts = JSON.parse(res.text);
  assert.equal(fromB64url(opts.challenge).length, 32, `a 32-byte random challenge: ${opts.challenge}`);
  assert.equal(opts.timeout, CEREMONY_TIMEOUT_MS);
  return opts;
}

/** Options for `navigator.credentials.get()`: `allowed` are the credential descriptors. */
function assertRequestOptions(opts, allowed) {
  assert.deepEqual(Object.keys(opts).sort(), ['allowCredentials', 'challenge', 'rpId', 'timeout', 'userVerification']);
  assert.equal(opts.rpId, RP_ID);
  assert.equal(opts.userVerification, 'required', 'user verification makes a passkey two factors');
  assert.deepEqual(opts.allowCredentials, allowed);
}

/** A registration ceremony on the page, answered by `authenticator` and posted to `action`. */
async function register(jar, csrf, authenticator, action, user) {
  const opts = await options(jar, csrf, 'register');
  assert.equal(opts.rp.id, RP_ID);
  assert.ok(typeof opts.rp.name === 'string' && opts.rp.name.length > 0, JSON.stringify(opts.rp));
  assert.deepEqual(
    opts.user,
    { id: b64url(Buffer.from(user.id)), name: user.email, displayName: 'Pia Passkey' },
    'the user handle is the user id, named by the email',
  );
  assert.ok(
    opts.pubKeyCredParams.some((p) => p.type === 'public-key' && p.alg === -7),
    JSON.stringify(opts.pubKeyCredParams),
  );
  assert.equal(opts.authenticatorSelection.residentKey, 'required', 'a discoverable credential (no email typed)');
  assert.equal(opts.authenticatorSelection.userVerification, 'required');
  assert.equal(opts.attestation, 'none');
  assert.deepEqual(opts.excludeCredentials, [], 'the user has no passkey yet');
  const credential = authenticator.create(opts, { origin: PASSKEY_ORIGIN });
  return browse(jar, action, { form: { csrf_token: csrf, credential: JSON.stringify(credential) } });
}

/** A user's passkeys (`GET /user_management/users/{id}/passkeys`, a Portico extension). */
async function listPasskeys(userId) {
  const res = await rawRequest('GET', `/user_management/users/${userId}/passkeys`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.object, 'list');
  return res.json.data;
}

function rangeStartNow() {
  return new Date(Date.now() - 60_000).toISOString();
}

for (const sdk of SDKS) {
  describe(`passkeys (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;

    /** A verified password user with a name (the registration options show it), a member of `organization`. */
    async function namedMember(tag, organization) {
      const user = await um.createUser({
        email: uniqueEmail(`${sdk.label}-${tag}`),
        firstName: 'Pia',
        lastName: 'Passkey',
        password: PLAIN_PASSWORD,
        emailVerified: true,
      });
      await um.createOrganizationMembership({ organizationId: organization.id, userId: user.id, roleSlug: 'member' });
      return user;
    }

    async function mfaRequiredOrg(name) {
      const org = await workos.organizations.createOrganization({ name: `${name} ${sdk.label} ${uid(3)}` });
      const res = await rawRequest('PUT', `/organizations/${org.id}/policy`, { body: { mfa: { required: true } } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.mfa, { required: true, enforced_from: null });
      return org;
    }

    /** A new browser (user agent `userAgent`) opens the app's authorization URL (PKCE, state). */
    async function start(userAgent) {
      const state = `state-${uid()}`;
      const pair = await workos.pkce.generate();
      const url = um.getAuthorizationUrl({
        provider: 'authkit',
        clientId: CLIENT_ID,
        redirectUri: REDIRECT_URI,
        state,
        codeChallenge: pair.codeChallenge,
        codeChallengeMethod: 'S256',
      });
      const jar = newBrowser(userAgent);
      const response = await browse(jar, onOrigin(url, PASSKEY_ORIGIN));
      assert.equal(response.status, 302, `authorize: ${response.status} ${response.text.slice(0, 300)}`);
      assert.equal(response.location, '/sign-in');
      const flow = { jar, status: response.status, location: response.location, response };
      return { jar, state, verifier: pair.codeVerifier, flow };
    }

    /** The first page's "Sign in with a passkey": no email, any of the user's passkeys. */
    async function signInWithPasskey(browser, authenticator, origin = PASSKEY_ORIGIN) {
      const { page, csrf } = await formPage(browser.jar, '/sign-in');
      offers(page, '/sign-in/passkey', 'sign_in');
      const opts = await options(browser.jar, csrf, 'sign_in');
      assertRequestOptions(opts, []);
      const credential = authenticator.get(opts, { origin });
      return browse(browser.jar, '/sign-in/passkey', {
        form: { csrf_token: csrf, credential: JSON.stringify(credential) },
      });
    }

    /** The app's side of a finished flow: the code from the redirect, exchanged with the SDK. */
    async function exchange(browser, page) {
      assert.equal(page.status, 303, `${page.status} ${page.text.slice(0, 300)}`);
      assert.ok(page.location?.startsWith(`${REDIRECT_URI}?`), `back to the app, not ${page.location}`);
      const params = new URL(page.location).searchParams;
      assert.equal(params.get('state'), browser.state, 'state comes back unchanged');
      return um.authenticateWithCode({ code: params.get('code'), codeVerifier: browser.verifier });
    }

    /**
     * A member of an organization that requires MFA signs in with the password
     * and, on the set-up page, chooses a passkey instead of an authenticator
     * app. Returns the code exchange's answer.
     */
    async function setUpForMfa(user, authenticator, userAgent) {
      const browser = await start(userAgent);
      const stopped = await signInWithPassword(browser.flow, {
        email: user.email,
        password: PLAIN_PASSWORD,
        stopAt: '/mfa/setup',
      });
      assert.equal(stopped.stopped, '/mfa/setup', 'the organization asks for a second factor');
      const { page, csrf } = await formPage(browser.jar, '/mfa/setup');
      assert.ok(page.text.includes('totp-qr'), 'the page offers an authenticator app too');
      offers(page, '/mfa/setup/passkey', 'register');
      const done = await register(browser.jar, csrf, authenticator, '/mfa/setup/passkey', user);
      return exchange(browser, done);
    }

    /** The one event `name` since `rangeStart` whose data matches, as the SDK deserialized it. */
    async function oneEvent(name, rangeStart, match) {
      const event = await eventually(async () => {
        const all = [];
        let after;
        for (let i = 0; i < 50; i++) {
          const page = await workos.events.listEvents({
            events: [name],
            rangeStart,
            limit: 100,
            ...(after ? { after } : {}),
          });
          all.push(...page.data);
          after = page.listMetadata?.after;
          if (!after || page.data.length === 0) break;
        }
        const mine = all.filter((e) => match(e.data));
        assert.equal(mine.length, 1, `expected one ${name} event of this test, got ${mine.length}`);
        return mine[0];
      });
      assert.equal(event.event, name);
      assert.match(event.id, idPattern('event'));
      assert.match(event.createdAt, ISO_MS);
      return event;
    }

    test('a passkey added on the passkeys page signs in alone; authenticateWithCode says Passkey', async () => {
      const rangeStart = rangeStartNow();
      const org = await workos.organizations.createOrganization({ name: `Passkeys ${sdk.label} ${uid(3)}` });
      const user = await namedMember('passkey-page', org);
      const agent = browserAgent('page');

      // The app signed the user in a moment ago and links to the passkeys page.
      const signedIn = await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD });
      assert.equal(signedIn.organizationId, org.id);
      const sid = (await assertAccessToken(workos, signedIn.accessToken, { userId: user.id })).sid;
      const returnTo = `${RETURN_TO_ORIGIN}/settings`;
      const link = await rawRequest('POST', `/user_management/sessions/${sid}/passkey_settings`, {
        body: { client_id: CLIENT_ID, return_to: returnTo },
      });
      assert.equal(link.status, 201, link.text);
      assert.equal(link.json.object, 'passkey_settings');
      assert.equal(link.json.session_id, sid);
      // The link opens where passkeys work (the public URL, unless they are set up elsewhere only).
      assert.ok(link.json.url.startsWith(`${PASSKEY_ORIGIN}/passkeys?token=`), link.json.url);
      assert.match(link.json.expires_at, ISO_MS);

      // The browser opens it: a flow of its own, then the page (no passkeys yet, a way back to the app).
      const jar = newBrowser(agent);
      const opened = await browse(jar, onOrigin(link.json.url, PASSKEY_ORIGIN));
      assert.equal(opened.status, 303, opened.text.slice(0, 300));
      assert.equal(opened.location, '/passkeys');
      assert.ok(jar.get('portico_flow'), "the link sets the page's flow cookie");
      const { page, csrf } = await formPage(jar, '/passkeys');
      assert.ok(page.text.includes('id="no-passkeys"'), page.text);
      assert.ok(page.text.includes(`href="${returnTo}"`), 'a way back to the app');
      offers(page, '/passkeys/add', 'register');

      // Signed in just now: adding a passkey needs no confirmation.
      const laptop = new Authenticator();
      const added = await register(jar, csrf, laptop, '/passkeys/add', user);
      assert.equal(added.status, 303, added.text.slice(0, 300));
      assert.equal(added.location, '/passkeys?done=added');
      const shown = await browse(jar, '/passkeys?done=added');
      assert.equal(shown.status, 200);
      assert.ok(shown.text.includes('class="passkey-name">Chrome on Linux<'), 'listed under the browser that made it');

      const listed = await listPasskeys(user.id);
      assert.equal(listed.length, 1, JSON.stringify(listed));
      const [passkey] = listed;
      assert.equal(passkey.object, 'passkey');
      assert.match(passkey.id, idPattern('passkey'));
      assert.equal(passkey.user_id, user.id);
      assert.equal(passkey.name, 'Chrome on Linux', 'named after the user agent');
      assert.equal(passkey.synced, true, 'the authenticator set the backed-up flag');
      assert.equal(passkey.last_used_at, null);
      assert.match(passkey.created_at, ISO_MS);
      assert.match(passkey.updated_at, ISO_MS);

      // The same passkey again is excluded (the authenticator would refuse to make a second one).
      const again = await options(jar, csrf, 'register');
      assert.deepEqual(again.excludeCredentials, [{ type: 'public-key', id: laptop.id, transports: TRANSPORTS }]);

      // Later, on the first page: the passkey alone, no email typed.
      const browser = await start(agent);
      const res = await exchange(browser, await signInWithPasskey(browser, laptop));
      assert.equal(res.authenticationMethod, 'Passkey');
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.email, user.email);
      assert.equal(res.organizationId, org.id, "into the user's only organization");
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, org.id);
      assert.notEqual(claims.sid, sid, 'a new sign-in is a new session');
      const sessions = new Map((await um.listSessions(user.id, { limit: 100 })).data.map((s) => [s.id, s]));
      assert.equal(sessions.get(claims.sid)?.authMethod, 'passkey', 'the session says how it began');
      assert.equal(sessions.get(sid)?.authMethod, 'password');
      const [used] = await listPasskeys(user.id);
      assert.match(String(used.last_used_at), ISO_MS);

      const event = await oneEvent('authentication.passkey_succeeded', rangeStart, (d) => d.userAgent === agent);
      assert.deepEqual(event.data, {
        email: user.email,
        ipAddress: CLIENT_IP,
        status: 'succeeded',
        type: 'passkey',
        userAgent: agent,
        userId: user.id,
      });

      // A password sign-in now asks for the passkey as the second factor.
      const second = await start(browserAgent('page-second'));
      const stopped = await signInWithPassword(second.flow, {
        email: user.email,
        password: PLAIN_PASSWORD,
        stopAt: '/mfa/verify',
      });
      assert.equal(stopped.stopped, '/mfa/verify');
      const verifyPage = await formPage(second.jar, '/mfa/verify');
      offers(verifyPage.page, '/mfa/passkey', 'second_factor');
      const opts = await options(second.jar, verifyPage.csrf, 'second_factor');
      assertRequestOptions(opts, [{ type: 'public-key', id: laptop.id, transports: TRANSPORTS }]);
      const verified = await browse(second.jar, '/mfa/passkey', {
        form: {
          csrf_token: verifyPage.csrf,
          credential: JSON.stringify(laptop.get(opts, { origin: PASSKEY_ORIGIN })),
        },
      });
      const viaPassword = await exchange(second, verified);
      assert.equal(viaPassword.authenticationMethod, 'Password', 'the passkey was the second step');
      assert.equal(viaPassword.user.id, user.id);
      assert.equal(viaPassword.organizationId, org.id);
    });

    test('a passkey set up for an MFA policy satisfies it; the password grant answers mfa_challenge with no apps', async (t) => {
      const org = await mfaRequiredOrg('Passkey MFA');
      const user = await namedMember('passkey-mfa', org);
      // A counting authenticator this time: its counter goes up with each use.
      const laptop = new Authenticator({ counter: 0 });

      const first = await setUpForMfa(user, laptop, browserAgent('mfa-setup'));
      assert.equal(first.authenticationMethod, 'Password');
      assert.equal(first.user.id, user.id);
      assert.equal(first.organizationId, org.id, 'the passkey set-up finished the sign-in into the organization');
      assert.equal((await assertAccessToken(workos, first.accessToken, { userId: user.id })).org_id, org.id);
      // The authenticator-app enrollment the set-up page started went with the choice of a passkey.
      const factors = await workos.multiFactorAuth.listUserAuthFactors({ userId: user.id });
      assert.deepEqual(factors.data, []);
      assert.deepEqual((await listPasskeys(user.id)).map((p) => p.user_id), [user.id]);

      // The API cannot use a passkey, and must not let the password alone enroll
      // another factor instead: the second factor is owed, with no app to offer.
      const challenge = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(challenge.code, 'mfa_challenge');
      assert.equal(typeof challenge.pendingAuthenticationToken, 'string');
      assert.ok(challenge.pendingAuthenticationToken.length > 0);
      assert.equal(challenge.rawData.user?.id, user.id);
      assert.deepEqual(challenge.rawData.authentication_factors, []);
      t.diagnostic(`password grant, passkey-only user in an MFA organization -> ${challenge.name} (HTTP ${challenge.status})`);

      // On the hosted pages the passkey alone satisfies the organization's rule.
      const browser = await start(browserAgent('mfa-passkey'));
      const res = await exchange(browser, await signInWithPasskey(browser, laptop));
      assert.equal(res.authenticationMethod, 'Passkey');
      assert.equal(res.user.id, user.id);
      assert.equal(res.organizationId, org.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, org.id);
      assert.equal(claims.role, 'member');
      const again = await start(browserAgent('mfa-passkey-again'));
      assert.equal((await exchange(again, await signInWithPasskey(again, laptop))).authenticationMethod, 'Passkey');
    });

    test('a passkey signed for another origin is refused (400) and recorded as passkey_failed', async (t) => {
      const rangeStart = rangeStartNow();
      const org = await mfaRequiredOrg('Passkey Phishing');
      const user = await namedMember('passkey-phished', org);
      const laptop = new Authenticator();
      await setUpForMfa(user, laptop, browserAgent('phished-setup'));

      // A phishing page relays the challenge: the browser writes the page's own origin.
      const agent = browserAgent('phished');
      const browser = await start(agent);
      const refused = await signInWithPasskey(browser, laptop, PHISHING_ORIGIN);
      assert.equal(refused.status, 400, `${refused.status} ${refused.location} ${refused.text.slice(0, 300)}`);
      assert.equal(refused.location, null);
      assert.ok(refused.text.includes(FAILED_TEXT), refused.text);
      assert.equal((await listPasskeys(user.id))[0].last_used_at, null, 'a refused passkey was not used');

      const event = await oneEvent('authentication.passkey_failed', rangeStart, (d) => d.userAgent === agent);
      assert.equal(event.data.type, 'passkey');
      assert.equal(event.data.status, 'failed');
      assert.equal(event.data.userId, user.id, 'the passkey is known: its user is named');
      assert.equal(event.data.email, user.email);
      assert.equal(event.data.ipAddress, CLIENT_IP);
      assert.equal(event.data.error?.code, 'passkey_failed');
      assert.ok(typeof event.data.error.message === 'string' && event.data.error.message.length > 0);
      t.diagnostic(`authentication.passkey_failed for a known passkey carries email=${JSON.stringify(event.data.email)}`);

      // The refusal leaves the flow as it was: a genuine answer to a new challenge signs in.
      const res = await exchange(browser, await signInWithPasskey(browser, laptop));
      assert.equal(res.authenticationMethod, 'Passkey');
      assert.equal(res.user.id, user.id);
      assert.equal(res.organizationId, org.id);
    });

    test('a passkey removed through the API (DELETE, 202) no longer signs in', async () => {
      const rangeStart = rangeStartNow();
      const org = await mfaRequiredOrg('Passkey Removed');
      const user = await namedMember('passkey-removed', org);
      const laptop = new Authenticator();
      await setUpForMfa(user, laptop, browserAgent('removed-setup'));
      const [passkey] = await listPasskeys(user.id);

      const removed = await rawRequest('DELETE', `/user_management/passkeys/${passkey.id}`);
      assert.equal(removed.status, 202, removed.text);
      const again = await rawRequest('DELETE', `/user_management/passkeys/${passkey.id}`);
      assert.equal(again.status, 404, again.text);
      assert.deepEqual(await listPasskeys(user.id), []);

      const agent = browserAgent('removed');
      const browser = await start(agent);
      const gone = await signInWithPasskey(browser, laptop);
      assert.equal(gone.status, 400, `${gone.status} ${gone.location} ${gone.text.slice(0, 300)}`);
      assert.equal(gone.location, null);
      assert.ok(gone.text.includes(UNKNOWN_TEXT), gone.text);

      // An unknown passkey names no user.
      const event = await oneEvent('authentication.passkey_failed', rangeStart, (d) => d.userAgent === agent);
      assert.equal(event.data.userId, null);
      assert.equal(event.data.email, null);
      assert.equal(event.data.error?.code, 'passkey_failed');

      // Without it the user has no second factor: the organization asks for one again.
      const retry = await start(browserAgent('removed-password'));
      const stopped = await signInWithPassword(retry.flow, {
        email: user.email,
        password: PLAIN_PASSWORD,
        stopAt: '/mfa/setup',
      });
      assert.equal(stopped.stopped, '/mfa/setup');
    });
  });
}
