// Passkeys on the hosted pages, in Chromium with a virtual authenticator (the
// DevTools protocol's WebAuthn domain: a platform authenticator with user
// verification, as a laptop or phone with a fingerprint reader). An
// organization requires two-step verification and a member sets up a passkey
// instead of an authenticator app; later, on the same device, they sign in
// with the passkey alone (no email typed, no second step: a passkey counts as
// two factors), the app's code exchange through the real Node SDK says
// "Passkey". The passkey as the second factor after a password (and a
// cancelled prompt); what is refused: a passkey removed through the API, an
// organization that does not allow passkeys, the options endpoint without the
// CSRF token or from another site. The passkeys page the app links to (list,
// add, remove, back to the app, the link works once), and the pages in French.
//
// Browsers refuse passkeys on an IP address, so these tests drive the hosted
// pages at PORTICO_PASSKEY_URL (http://localhost:PORT, the origin compat/run.sh
// configures passkeys for) while the API calls stay on PORTICO_URL. A new
// browser context is a new device; "the same device later" is a new context
// whose authenticator holds a copy of the credential (taken after its last use,
// so its signature counter is current).
//
// The flows return to TEST_REDIRECT_URI (127.0.0.1:3919, nothing listens): the
// test reads the code from the browser's request there and exchanges it, as
// the app's backend would.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WorkOS } from 'workos-v11';
import { API_KEY, CLIENT_ID, PORTICO_URL, closeBrowser, newPage, screenshot, uid, uniqueEmail } from './lib/browser.mjs';
import {
  PASSKEY_ORIGIN,
  PASSWORD,
  PORTICO_ORIGIN,
  PORTICO_PASSKEY_URL,
  TEST_REDIRECT_URI,
  alertText,
  api,
  authorizeUrl,
  completeSignIn,
  createMembership,
  createOrganization,
  createUser,
  enterEmail,
  errorCode,
  expectHostedPage,
  onOrigin,
  redirectFrom,
  sessionStatus,
  submitForm,
  verifyAccessToken,
} from './lib/portico.mjs';
import { authenticator, newSecret } from '../lib/totp.mjs';

after(closeBrowser);

const SETUP_HEADING = 'Set up two-step verification';
const SETUP_LEAD =
  'Your organization requires a second step when you sign in: a passkey on this device, or a code from an authenticator app on your phone.';
const VERIFY_HEADING = 'Two-step verification';
const VERIFY_LEAD_PASSKEY = 'Use your passkey to finish signing in.';
const VERIFY_LEAD_APP = 'Enter the code from your authenticator app to finish signing in.';
const PASSKEYS_HEADING = 'Your passkeys';
const PASSKEY_UNKNOWN_ALERT = 'Please check the form This passkey is not registered to an account here. Sign in another way.';
const PASSKEY_CANCELLED = 'The passkey request was cancelled or timed out. Try again.';
const PASSKEY_FAILED = 'Your browser could not use a passkey here. Try again, or use another way.';
const POLICY_REFUSED = 'Your organization’s security policy stops this sign-in';
const METHOD_REFUSED = 'Your organization requires another way of signing in. Ask your administrator which one to use.';
const CSRF_MESSAGE = 'This form has expired or was sent from another site. Go back to the application and start again.';
// Where "Done" on the passkeys page goes: a page on the origin of one of the client's redirect URIs.
const SETTINGS_URL = 'http://127.0.0.1:3919/settings';
// Headless Chromium's user agent says "HeadlessChrome/… (X11; Linux x86_64)": the passkey is named after it.
const DEVICE_NAME = 'Chrome on Linux';

// ---- helpers ---------------------------------------------------------------------

/** Runs `body(page)` with a page in a fresh context (a new device), closed afterwards. */
async function withPage(body) {
  const page = await newPage();
  try {
    return await body(page);
  } finally {
    await page.context().close();
  }
}

const putPolicy = (organizationId, body) => api('PUT', `/organizations/${organizationId}/policy`, body);
const listPasskeys = async (userId) => api('GET', `/user_management/users/${userId}/passkeys`);
const MFA_REQUIRED = { mfa: { required: true, grace_period_days: 0 } };

/** An organization (MFA required unless `mfa: false`) and a member of it with a password, unique to the test. */
async function memberOf(tag, { mfa = true, firstName = 'Pia', lastName = 'Passkey' } = {}) {
  const org = await createOrganization(`${tag[0].toUpperCase()}${tag.slice(1)} ${uid()}`);
  if (mfa) await putPolicy(org.id, MFA_REQUIRED);
  const email = uniqueEmail(`passkey-${tag}`);
  const user = await createUser({ email, firstName, lastName });
  await createMembership({ userId: user.id, organizationId: org.id, roleSlug: 'member' });
  return { org, email, user };
}

/** The DevTools session driving the page's WebAuthn domain (one per page). */
const webauthnSessions = new WeakMap();
async function webauthn(page) {
  if (!webauthnSessions.has(page)) {
    webauthnSessions.set(
      page,
      page
        .context()
        .newCDPSession(page)
        .then(async (cdp) => {
          await cdp.send('WebAuthn.enable');
          return cdp;
        }),
    );
  }
  return webauthnSessions.get(page);
}

/**
 * A virtual platform authenticator in the page's browser: resident keys, user
 * verification that succeeds, presence given without a prompt. `synced`: its
 * new credentials say they are backed up (as a passkey in a password manager).
 * `credentials` are copied in (the same device, later).
 */
async function addAuthenticator(page, { synced = true, credentials = [] } = {}) {
  const cdp = await webauthn(page);
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: synced,
      defaultBackupState: synced,
    },
  });
  for (const credential of credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  return {
    /** The credentials it holds now (with their current signature counters). */
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    /** false: the next prompt fails its fingerprint or PIN, as a person who cancels it. */
    setUserVerified: (isUserVerified) => cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified }),
    remove: () => cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId }),
  };
}

/** The only credential an authenticator holds. */
async function onlyCredential(device) {
  const credentials = await device.credentials();
  assert.equal(credentials.length, 1, `one credential on the authenticator: ${credentials.length}`);
  assert.equal(credentials[0].rpId, 'localhost');
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential (a passkey)');
  return credentials[0];
}

/** Records the page's navigations as `METHOD /path` on Portico's passkey origin, the full URL elsewhere. */
function recordNavigations(page) {
  const seen = [];
  page.on('request', (request) => {
    if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
    const url = new URL(request.url());
    seen.push(url.origin === PASSKEY_ORIGIN ? `${request.method()} ${url.pathname}` : `${url.origin}${url.pathname}`);
  });
  return seen;
}

/** Starts a sign-in as the app does, on the passkey origin; lands on /sign-in. Returns { verifier, state }. */
async function startSignIn(page, { lang } = {}) {
  const { url, verifier, state } = authorizeUrl();
  await page.goto(onOrigin(url, PASSKEY_ORIGIN));
  if (lang) await page.goto(`${PORTICO_PASSKEY_URL}/sign-in?lang=${lang}`);
  await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/sign-in' });
  return { verifier, state };
}

/** From the start: email and password sent; waits for the page Portico sends the browser to. */
async function signInWithPassword(page, email) {
  const flow = await startSignIn(page);
  await enterEmail(page, email);
  await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/sign-in/password' });
  await page.locator('#password').fill(PASSWORD);
  await submitForm(page, '#password');
  return flow;
}

/** Runs `action` (the click that ends the flow), exchanges the code: the app's session. */
async function backInApp(page, action, flow) {
  return completeSignIn(await redirectFrom(page, action, `${TEST_REDIRECT_URI}?`, { origin: PASSKEY_ORIGIN }), flow);
}

/**
 * A member of an organization that requires MFA signs in with the password and
 * sets up a passkey on /mfa/setup (the story of the first test, without its
 * checks): the app's session; the credential stays on `page`'s authenticator.
 */
async function enrollPasskey(page, { email }) {
  const flow = await signInWithPassword(page, email);
  await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/mfa/setup', heading: SETUP_HEADING });
  return backInApp(page, () => page.locator('#passkey-set-up').click(), flow);
}

/** Text of an element with its whitespace folded. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** The product name the hosted pages show in their header. */
async function productName(page) {
  return textOf(page.locator('.brand .wordmark'));
}

/** The refresh-token grant as an app's backend sends it: `{ status, body }`. */
async function refresh(refreshToken) {
  const res = await fetch(`${PORTICO_URL}/user_management/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: API_KEY, refresh_token: refreshToken }),
  });
  return { status: res.status, body: await res.json() };
}

/** The management API's answer without throwing: `{ status, body }`. */
async function rawApi(method, path, body) {
  const res = await fetch(`${PORTICO_URL}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The day part (UTC) of an API timestamp, as the passkeys page writes dates. */
const day = (timestamp) => timestamp.slice(0, 10);

// ---- 1. MFA required: a passkey instead of an authenticator app ----------------------

test('MFA required: after the password, "Use a passkey instead" on /mfa/setup registers one and lands in the app', async () => {
  const { org, email, user } = await memberOf('keystone', { firstName: 'Ada', lastName: 'Keys' });

  await withPage(async (page) => {
    const device = await addAuthenticator(page);
    const navigations = recordNavigations(page);

    // The first page offers a passkey too, but this member has none yet: the password.
    const flow = await startSignIn(page);
    assert.ok(await page.locator('#passkey-sign-in').isVisible(), 'the sign-in page offers a passkey on this origin');
    await enterEmail(page, email);
    await page.locator('#password').fill(PASSWORD);
    await submitForm(page, '#password');

    // ---- the set-up page: the authenticator app, or ("or") a passkey --------------------
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/mfa/setup', heading: SETUP_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), SETUP_LEAD);
    assert.ok(await page.locator('#totp-qr').isVisible(), 'the QR code for an app is still there');
    const divider = page.locator('[data-passkey-divider]');
    assert.equal(await divider.count(), 1);
    assert.ok(await divider.isVisible(), 'the script shows the divider');
    assert.equal(await textOf(divider), 'or');
    const button = page.locator('#passkey-set-up');
    assert.ok(await button.isVisible(), 'the script shows the passkey form');
    assert.equal(await textOf(button), 'Use a passkey instead');
    await screenshot(page, 'mfa-setup-passkey');
    assert.equal((await device.credentials()).length, 0, 'nothing registered before the click');

    // ---- one click: the browser registers a passkey, the flow goes on into the app ------
    navigations.length = 0;
    const session = await backInApp(page, () => button.click(), flow);
    // No recovery codes (those are for an authenticator app), no other page: straight back.
    assert.deepEqual(navigations, ['POST /mfa/setup/passkey', `${new URL(TEST_REDIRECT_URI).origin}/callback`]);
    assert.equal(session.user.id, user.id);
    assert.equal(session.organization_id, org.id);
    assert.equal(session.claims.org_id, org.id, 'signed in to the organization that requires MFA');
    assert.equal(session.authentication_method, 'Password', 'the first factor was the password');
    assert.equal(await sessionStatus(user.id, session.claims.sid), 'active');
    const refreshed = await refresh(session.refresh_token);
    assert.equal(refreshed.status, 200, `the session refreshes: ${JSON.stringify(refreshed.body)}`);
    assert.equal(refreshed.body.organization_id, org.id);

    // ---- the API lists the passkey; the browser holds its credential --------------------
    const credential = await onlyCredential(device);
    assert.equal(Buffer.from(credential.userHandle, 'base64').toString(), user.id, 'the user handle is the user id');
    const passkeys = await listPasskeys(user.id);
    assert.equal(passkeys.object, 'list');
    assert.equal(passkeys.data.length, 1, JSON.stringify(passkeys));
    const [passkey] = passkeys.data;
    assert.equal(passkey.object, 'passkey');
    assert.match(passkey.id, /^passkey_[0-9A-Z]{26}$/);
    assert.equal(passkey.user_id, user.id);
    assert.equal(passkey.name, DEVICE_NAME);
    assert.equal(passkey.synced, true, 'the authenticator said the credential is backed up');
    assert.equal(passkey.last_used_at, null, 'registered, not used to sign in yet');
    assert.ok(Math.abs(Date.parse(passkey.created_at) - Date.now()) < 60_000, `created now: ${passkey.created_at}`);
    assert.equal(passkey.updated_at, passkey.created_at);
    assert.deepEqual(passkeys.list_metadata, { before: null, after: null });
    // The authenticator-app enrollment /mfa/setup started went with the choice of a passkey.
    const factors = await api('GET', `/user_management/users/${user.id}/auth_factors`);
    assert.deepEqual(factors.data, [], JSON.stringify(factors));

    // The member complies with the policy now: the dry run names nobody.
    const report = await api('POST', `/organizations/${org.id}/policy/dry_run`, MFA_REQUIRED);
    assert.equal(report.affected_member_count, 0, JSON.stringify(report));
  });
});

// ---- 2. later, on the same device: the passkey alone ----------------------------------

test('later on the same device: "Sign in with a passkey" without an email goes straight into the MFA organization; the SDK says "Passkey"', async () => {
  const { org, email, user } = await memberOf('lodestar', { firstName: 'Lou', lastName: 'Later' });
  const credential = await withPage(async (page) => {
    const device = await addAuthenticator(page);
    await enrollPasskey(page, { email });
    return onlyCredential(device);
  });
  const [passkey] = (await listPasskeys(user.id)).data;

  await withPage(async (page) => {
    const device = await addAuthenticator(page, { credentials: [credential] });
    const navigations = recordNavigations(page);
    const flow = await startSignIn(page);

    // ---- the first page: email, or ("or") a passkey -----------------------------------
    assert.equal(await page.locator('#email').inputValue(), '', 'no email typed');
    assert.equal(await textOf(page.locator('[data-passkey-divider]')), 'or');
    const button = page.locator('#passkey-sign-in');
    assert.ok(await button.isVisible());
    assert.equal(await textOf(button), 'Sign in with a passkey');
    // Below the email form, in the page's order.
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('#email, [data-passkey-divider], #passkey-sign-in')].map((el) => el.id || 'divider'),
    );
    assert.deepEqual(order, ['email', 'divider', 'passkey-sign-in']);
    await screenshot(page, 'passkeys-sign-in');

    // ---- one click: no email, no password, no second step -----------------------------
    const redirect = await redirectFrom(page, () => button.click(), `${TEST_REDIRECT_URI}?`, { origin: PASSKEY_ORIGIN });
    assert.deepEqual(navigations, [
      'GET /user_management/authorize',
      'GET /sign-in',
      'POST /sign-in/passkey',
      `${new URL(TEST_REDIRECT_URI).origin}/callback`,
    ], 'no /mfa/verify: the passkey is both factors');
    assert.equal(redirect.searchParams.get('state'), flow.state);

    // ---- the app's backend exchanges the code with the official Node SDK ------------------
    const portico = new URL(PORTICO_URL);
    const workos = new WorkOS(API_KEY, {
      apiHostname: portico.hostname,
      port: Number(portico.port),
      https: portico.protocol === 'https:',
      clientId: CLIENT_ID,
      maxRetries: 1,
    });
    const result = await workos.userManagement.authenticateWithCode({
      code: redirect.searchParams.get('code'),
      codeVerifier: flow.verifier,
    });
    assert.equal(result.authenticationMethod, 'Passkey');
    assert.equal(result.user.id, user.id);
    assert.equal(result.user.email, email);
    assert.equal(result.organizationId, org.id, 'into the organization that requires MFA');
    const claims = await verifyAccessToken(result.accessToken);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.org_id, org.id);
    assert.equal(await sessionStatus(user.id, claims.sid), 'active');

    // The API records the use; the authenticator counted it.
    const [used] = (await listPasskeys(user.id)).data;
    assert.equal(used.id, passkey.id);
    assert.ok(used.last_used_at, 'last_used_at is set');
    assert.ok(Math.abs(Date.parse(used.last_used_at) - Date.now()) < 60_000, `used now: ${used.last_used_at}`);
    assert.ok((await onlyCredential(device)).signCount > credential.signCount, 'the signature counter went up');
  });
});

// ---- 3. the passkey as the second factor ----------------------------------------------

test('the password, then the passkey as the second factor on /mfa/verify (offered first); a cancelled prompt says so', async () => {
  const { org, email, user } = await memberOf('bastion', { firstName: 'Vera', lastName: 'Verify' });

  await withPage(async (page) => {
    const device = await addAuthenticator(page);
    await enrollPasskey(page, { email });

    // ---- only a passkey: the page asks for it, no code field ----------------------------
    let flow = await signInWithPassword(page, email);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), VERIFY_LEAD_PASSKEY);
    const button = page.locator('#passkey-verify');
    assert.ok(await button.isVisible());
    assert.equal(await textOf(button), 'Use your passkey');
    assert.equal(await page.locator('#code').count(), 0, 'no code field: there is no authenticator app');
    assert.equal(await page.locator('[data-passkey-divider]').count(), 0, 'nothing to divide');
    assert.equal(await page.locator('[role=alert]').count(), 0, 'no alert yet');
    await screenshot(page, 'mfa-verify-passkey');

    // The person cancels the prompt (their fingerprint is not taken): the form says so, the
    // page stays.
    await device.setUserVerified(false);
    await button.click();
    const inline = page.locator('form[data-passkey] [data-passkey-error]');
    await inline.waitFor({ state: 'visible' });
    assert.equal(await alertText(page), PASSKEY_CANCELLED);
    assert.equal(new URL(page.url()).pathname, '/mfa/verify');
    assert.equal(await button.isEnabled(), true, 'the button can be used again');

    // Again, with the fingerprint: into the organization.
    await device.setUserVerified(true);
    const session = await backInApp(page, () => button.click(), flow);
    assert.equal(session.user.id, user.id);
    assert.equal(session.claims.org_id, org.id);
    assert.equal(session.authentication_method, 'Password', 'the first factor was the password');
    assert.ok((await listPasskeys(user.id)).data[0].last_used_at, 'the passkey was used');

    // ---- an authenticator app as well: the passkey first, "or enter a code", the code ----
    const key = newSecret();
    const phone = authenticator(key);
    const enrolled = await api('POST', `/user_management/users/${user.id}/auth_factors`, { type: 'totp', totp_secret: key });
    const answer = await api('POST', `/auth/challenges/${enrolled.authentication_challenge.id}/verify`, { code: await phone.next() });
    assert.equal(answer.valid, true, 'the app is verified');

    flow = await signInWithPassword(page, email);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), VERIFY_LEAD_APP);
    const order = await page.evaluate(() =>
      [...document.querySelectorAll('#passkey-verify, [data-passkey-divider], #code')].map((el) => el.id || 'divider'),
    );
    assert.deepEqual(order, ['passkey-verify', 'divider', 'code'], 'the passkey first, then the code');
    assert.equal(await textOf(page.locator('[data-passkey-divider]')), 'or enter a code');
    assert.ok(await page.locator('[data-passkey-divider]').isVisible());
    assert.match((await button.getAttribute('class')) ?? '', /\bprimary\b/, 'the passkey is the primary action');
    const codeSubmit = page.locator('form[action="/mfa/verify"] button[type=submit]');
    assert.match((await codeSubmit.getAttribute('class')) ?? '', /\bsecondary\b/);
    const viaPasskey = await backInApp(page, () => button.click(), flow);
    assert.equal(viaPasskey.claims.org_id, org.id);
  });
});

// ---- 4. what is refused -----------------------------------------------------------------

test('refused: a passkey removed through the API, a passkey in an organization that allows only passwords, options without the CSRF token', async () => {
  // ---- (a) removed by the app's backend (a lost device): it no longer signs in ----------
  const lost = await memberOf('lost', { firstName: 'Lars', lastName: 'Lost' });
  await withPage(async (page) => {
    await addAuthenticator(page);
    await enrollPasskey(page, lost);
    const [passkey] = (await listPasskeys(lost.user.id)).data;
    const removed = await rawApi('DELETE', `/user_management/passkeys/${passkey.id}`);
    assert.equal(removed.status, 202, JSON.stringify(removed.body));
    assert.deepEqual((await listPasskeys(lost.user.id)).data, []);
    const again = await rawApi('DELETE', `/user_management/passkeys/${passkey.id}`);
    assert.equal(again.status, 404, `a second removal: ${JSON.stringify(again.body)}`);

    // The browser still offers the credential; Portico no longer knows it.
    await startSignIn(page);
    const product = await productName(page);
    await submitForm(page, '#passkey-sign-in');
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/sign-in/passkey', heading: `Sign in to ${product}` });
    assert.equal(await alertText(page), PASSKEY_UNKNOWN_ALERT);
    assert.ok(await page.locator('#email').isVisible(), 'the email form is there to sign in another way');
    assert.ok(await page.locator('#passkey-sign-in').isVisible(), 'and the passkey button, for another passkey');
  });

  // ---- (b) the organization allows only passwords ---------------------------------------
  const strict = await memberOf('passwordonly', { firstName: 'Otto', lastName: 'Only' });
  await withPage(async (page) => {
    await addAuthenticator(page);
    await enrollPasskey(page, strict);
    const policy = await putPolicy(strict.org.id, { ...MFA_REQUIRED, allowed_authentication_methods: ['password'] });
    assert.deepEqual(policy.allowed_authentication_methods, ['password']);

    let flow = await startSignIn(page);
    const [response] = await Promise.all([page.waitForNavigation(), page.locator('#passkey-sign-in').click()]);
    // The passkey was right; the policy stops it: a page of its own, no form to retry.
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/sign-in/passkey', heading: POLICY_REFUSED });
    assert.equal(response.status(), 403);
    assert.equal(await textOf(page.locator('p.lead')), METHOD_REFUSED);
    assert.equal(await errorCode(page), 'organization_authentication_methods_required');
    assert.equal(await page.locator('form').count(), 0, 'nothing to retry on this page');

    // The password with the passkey as the second factor is a password sign-in: allowed.
    flow = await signInWithPassword(page, strict.email);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/mfa/verify', heading: VERIFY_HEADING });
    const second = await backInApp(page, () => page.locator('#passkey-verify').click(), flow);
    assert.equal(second.claims.org_id, strict.org.id);
    assert.equal(second.authentication_method, 'Password');

    // Once the admin allows passkeys, the passkey alone signs in.
    await putPolicy(strict.org.id, { ...MFA_REQUIRED, allowed_authentication_methods: ['password', 'passkey'] });
    flow = await startSignIn(page);
    const allowed = await backInApp(page, () => page.locator('#passkey-sign-in').click(), flow);
    assert.equal(allowed.claims.org_id, strict.org.id);
    assert.equal(allowed.authentication_method, 'Passkey');
  });

  // ---- (c) the options endpoint checks the CSRF token and the site, as every form -------
  await withPage(async (page) => {
    await startSignIn(page);
    const form = page.locator('form[data-passkey=sign_in]');
    const csrf = await form.locator('input[name=csrf_token]').inputValue();
    const flowTag = await form.locator('input[name=flow]').inputValue();
    const post = (fields) =>
      page.evaluate(async (body) => {
        const res = await fetch('/passkeys/options', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(body),
        });
        return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
      }, fields);

    const noToken = await post({ purpose: 'sign_in', flow: flowTag });
    assert.equal(noToken.status, 403, JSON.stringify(noToken));
    assert.match(noToken.type, /^application\/json/);
    assert.deepEqual(noToken.body, { error: 'csrf', message: CSRF_MESSAGE });
    const wrongToken = await post({ purpose: 'sign_in', flow: flowTag, csrf_token: 'x'.repeat(43) });
    assert.equal(wrongToken.status, 403, JSON.stringify(wrongToken));

    // The right token, sent by another site (the browser's cookies go with it).
    const crossSite = await page.request.post(`${PORTICO_PASSKEY_URL}/passkeys/options`, {
      form: { purpose: 'sign_in', flow: flowTag, csrf_token: csrf },
      headers: { Origin: 'https://attacker.example', 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(crossSite.status(), 403, await crossSite.text());
    assert.equal((await crossSite.json()).error, 'csrf');

    // The control: with the token, from the page, a challenge for any of the user's passkeys.
    const genuine = await post({ purpose: 'sign_in', flow: flowTag, csrf_token: csrf });
    assert.equal(genuine.status, 200, JSON.stringify(genuine));
    assert.equal(genuine.body.rpId, 'localhost');
    assert.equal(genuine.body.userVerification, 'required', 'a passkey counts as two factors only with user verification');
    assert.deepEqual(genuine.body.allowCredentials, [], 'discoverable: no email, so no list of credentials');
    assert.match(genuine.body.challenge, /^[A-Za-z0-9_-]{43}$/, 'a 32-byte challenge in base64url');
  });
});

// ---- 5. the passkeys page ----------------------------------------------------------------

/** On the passkeys page: its passkeys as { id, name, meta }, in page order. */
async function passkeyItems(page) {
  return page.locator('#passkey-list li.passkey').evaluateAll((items) =>
    items.map((li) => ({
      id: li.querySelector('input[name=passkey_id]')?.value ?? null,
      name: li.querySelector('.passkey-name').textContent.trim(),
      meta: li.querySelector('.passkey-meta').textContent.replace(/\s+/g, ' ').trim(),
    })),
  );
}

test('the passkeys page also lists the authenticator app and removes it (the recovery path stays the passkey)', async () => {
  const { email, user } = await memberOf('app-removal', { firstName: 'Ada', lastName: 'App' });

  await withPage(async (page) => {
    await addAuthenticator(page);
    await enrollPasskey(page, { email });
    const key = newSecret();
    const phone = authenticator(key);
    const enrolled = await api('POST', `/user_management/users/${user.id}/auth_factors`, { type: 'totp', totp_secret: key });
    const factor = enrolled.authentication_factor;
    const answer = await api('POST', `/auth/challenges/${enrolled.authentication_challenge.id}/verify`, { code: await phone.next() });
    assert.equal(answer.valid, true, 'the app is verified');

    const flow = await startSignIn(page);
    const session = await backInApp(page, () => page.locator('#passkey-sign-in').click(), flow);
    const link = await api('POST', `/user_management/sessions/${session.claims.sid}/passkey_settings`, {
      client_id: CLIENT_ID,
      return_to: SETTINGS_URL,
    });
    await page.goto(link.url);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/passkeys', heading: PASSKEYS_HEADING });
    const apps = page.locator('#app-list li.passkey');
    assert.equal(await apps.count(), 1);
    assert.equal(await textOf(apps.locator('.passkey-name')), 'Authenticator app (Portico)');
    assert.equal(await textOf(apps.locator('.passkey-meta')), `Added ${day(factor.created_at)}`);
    assert.equal(await textOf(page.locator('#apps-title')), 'Authenticator app');
    await screenshot(page, 'passkeys-page-with-app');

    await Promise.all([page.waitForURL((url) => url.search === '?done=app_removed'), apps.locator('button').click()]);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/passkeys', heading: PASSKEYS_HEADING });
    assert.equal(await textOf(page.locator('.notice[role=status]')), 'Authenticator app removed.');
    assert.equal(await page.locator('#app-list').count(), 0);
    assert.equal(await page.locator('#passkey-list li.passkey').count(), 1, 'the passkey stays');
    assert.deepEqual((await api('GET', `/user_management/users/${user.id}/auth_factors`)).data, []);
  });
});

test('the passkeys page from the app: lists the passkey, adds a second one, removes one; the API agrees; the link works once', async () => {
  const { email, user } = await memberOf('atlas', { firstName: 'Paul', lastName: 'Page' });

  await withPage(async (page) => {
    const laptop = await addAuthenticator(page);
    await enrollPasskey(page, { email });
    // A sign-in with the passkey, so the page has a "last used" to show.
    const flow = await startSignIn(page);
    const session = await backInApp(page, () => page.locator('#passkey-sign-in').click(), flow);
    const sessionId = session.claims.sid;
    const [first] = (await listPasskeys(user.id)).data;

    // ---- the app's backend asks for a link for this session -------------------------------
    const refused = await rawApi('POST', `/user_management/sessions/${sessionId}/passkey_settings`, {
      client_id: CLIENT_ID,
      return_to: 'https://elsewhere.example/settings',
    });
    assert.equal(refused.status, 422, `return_to on another origin: ${JSON.stringify(refused.body)}`);
    const link = await api('POST', `/user_management/sessions/${sessionId}/passkey_settings`, {
      client_id: CLIENT_ID,
      return_to: SETTINGS_URL,
    });
    assert.equal(link.object, 'passkey_settings');
    assert.equal(link.session_id, sessionId);
    // The link opens where passkeys work (the public URL, unless passkeys are set up elsewhere only).
    assert.ok(link.url.startsWith(`${PASSKEY_ORIGIN}/passkeys?token=`), link.url);
    const expiresIn = Date.parse(link.expires_at) - Date.now();
    assert.ok(expiresIn > 4 * 60_000 && expiresIn <= 5 * 60_000 + 5_000, `valid about 5 minutes: ${link.expires_at}`);

    // ---- the page: the passkey, "Remove", "Add a passkey", back to the app -----------------
    const opened = await page.goto(onOrigin(link.url, PASSKEY_ORIGIN));
    assert.equal(opened.request().redirectedFrom()?.url(), onOrigin(link.url, PASSKEY_ORIGIN), 'the link redirects…');
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/passkeys', heading: PASSKEYS_HEADING });
    assert.equal(new URL(page.url()).search, '', '…to the page without the token');
    assert.deepEqual(await passkeyItems(page), [
      { id: first.id, name: DEVICE_NAME, meta: `Synced · Added ${day(first.created_at)} · last used ${day(first.last_used_at)}` },
    ]);
    assert.equal(await page.locator('#no-passkeys').count(), 0);
    assert.equal(await page.locator('#passkey-confirm, #confirm-password').count(), 0, 'signed in just now: no need to confirm');
    assert.equal(await page.locator('#passkey-list button[type=submit]').getAttribute('aria-label'), `Remove ${DEVICE_NAME}`);
    const back = page.locator('#back-to-app');
    assert.equal(await back.getAttribute('href'), SETTINGS_URL);
    assert.equal(await textOf(back), 'Done');
    const add = page.locator('#passkey-add');
    assert.ok(await add.isVisible());
    assert.equal(await textOf(add), 'Add a passkey');

    // This laptop holds that passkey already: the browser refuses to make a second one on it.
    await add.click();
    await page.locator('form[data-passkey=register] [data-passkey-error]').waitFor({ state: 'visible' });
    assert.equal(await alertText(page), PASSKEY_FAILED);
    assert.equal((await listPasskeys(user.id)).data.length, 1, 'nothing added');

    // ---- another authenticator, one that does not sync: "Add a passkey" ----------------------
    await laptop.remove();
    const key = await addAuthenticator(page, { synced: false });
    await Promise.all([page.waitForURL((url) => url.search === '?done=added'), add.click()]);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/passkeys', heading: PASSKEYS_HEADING });
    assert.equal(await textOf(page.locator('.notice[role=status]')), 'Passkey added. You can use it the next time you sign in.');
    const afterAdd = (await listPasskeys(user.id)).data;
    assert.equal(afterAdd.length, 2, JSON.stringify(afterAdd));
    assert.equal(afterAdd[0].id, first.id, 'oldest first');
    const second = afterAdd[1];
    // Two passkeys made in the same browser get names people can tell apart.
    assert.deepEqual([second.name, second.synced, second.last_used_at], [`${DEVICE_NAME} (2)`, false, null]);
    assert.deepEqual(await passkeyItems(page), [
      { id: first.id, name: DEVICE_NAME, meta: `Synced · Added ${day(first.created_at)} · last used ${day(first.last_used_at)}` },
      { id: second.id, name: `${DEVICE_NAME} (2)`, meta: `Added ${day(second.created_at)}` },
    ]);
    await screenshot(page, 'passkeys-page');
    const keyCredential = await onlyCredential(key);

    // ---- remove the first one -------------------------------------------------------------
    const firstItem = page.locator('#passkey-list li.passkey').filter({ has: page.locator(`input[value="${first.id}"]`) });
    await Promise.all([page.waitForURL((url) => url.search === '?done=removed'), firstItem.locator('button').click()]);
    await expectHostedPage(page, { origin: PASSKEY_ORIGIN, path: '/passkeys', heading: PASSKEYS_HEADING });
    assert.equal(await textOf(page.locator('.notice[role=status]')), 'Passkey removed.');
    assert.deepEqual((await passkeyItems(page)).map((p) => p.id), [second.id]);
    assert.deepEqual((await listPasskeys(user.id)).data.map((p) => p.id), [second.id], 'the API agrees');
    assert.equal(await back.getAttribute('href'), SETTINGS_URL);

    // ---- the link works once ----------------------------------------------------------------
    const reopened = await page.goto(onOrigin(link.url, PASSKEY_ORIGIN));
    assert.equal(reopened.status(), 400);
    assert.equal(await errorCode(page), 'passkeys_link_invalid');

    // ---- the added passkey signs in on its device --------------------------------------------
    await withPage(async (other) => {
      await addAuthenticator(other, { synced: false, credentials: [keyCredential] });
      const next = await startSignIn(other);
      const signedIn = await backInApp(other, () => other.locator('#passkey-sign-in').click(), next);
      assert.equal(signedIn.user.id, user.id);
      assert.equal(signedIn.authentication_method, 'Passkey');
    });
  });
});

// ---- 6. French, and no passkeys on other origins ---------------------------------------------

test('in French: "Se connecter avec une clé d’accès" and its cancelled message; the pages at 127.0.0.1 offer no passkey', async () => {
  await withPage(async (page) => {
    const device = await addAuthenticator(page);
    await startSignIn(page, { lang: 'fr' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.equal(await textOf(page.locator('h1')), `Connexion à ${await productName(page)}`);
    const button = page.locator('#passkey-sign-in');
    assert.ok(await button.isVisible());
    assert.equal(await textOf(button), 'Se connecter avec une clé d’accès');
    assert.equal(await textOf(page.locator('[data-passkey-divider]')), 'ou');

    // An authenticator without a passkey for this site, and the person cancels: in French.
    await device.setUserVerified(false);
    await button.click();
    await page.locator('form[data-passkey] [data-passkey-error]').waitFor({ state: 'visible' });
    assert.equal(await alertText(page), 'La demande de clé d’accès a été annulée ou a expiré. Réessayez.');
  });

  // The same server at 127.0.0.1, an origin passkeys are not configured for: no button, no script.
  await withPage(async (page) => {
    await addAuthenticator(page);
    await page.goto(authorizeUrl().url);
    await page.goto(`${PORTICO_URL}/sign-in?lang=fr`);
    await expectHostedPage(page, { origin: PORTICO_ORIGIN, path: '/sign-in', heading: `Connexion à ${await productName(page)}` });
    assert.ok(await page.locator('#email').isVisible(), 'the email form, as on every origin');
    assert.equal(await page.locator('form[data-passkey], #passkey-sign-in, [data-passkey-divider]').count(), 0);
    assert.equal(await page.locator('script[src^="/assets/passkeys.js"]').count(), 0);
  });
});
