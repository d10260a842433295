// What the browser tests need besides the browser: the management API (to
// set up organizations, roles, memberships and invitations, and to read the
// server's state back), authorization URLs with PKCE, the code exchange, and
// checks every hosted page must pass.
//
// The flows that do not end in an example app return to TEST_REDIRECT_URI;
// the tests read the code from the browser's request (redirectFrom), so
// nothing has to listen there.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { API_KEY, CLIENT_ID, PORTICO_URL, uid } from './browser.mjs';

export const PORTICO_ORIGIN = new URL(PORTICO_URL).origin;

/**
 * The same server under the name passkeys are configured for: browsers refuse
 * passkeys on an IP address, so compat/run.sh gives Portico the RP ID
 * `localhost` and the origin `http://localhost:PORT` (PORTICO_PASSKEY_URL).
 * Hosted pages at PORTICO_URL never offer passkeys.
 */
export const PORTICO_PASSKEY_URL = (
  process.env.PORTICO_PASSKEY_URL || PORTICO_URL.replace('//127.0.0.1', '//localhost')
).replace(/\/+$/, '');
export const PASSKEY_ORIGIN = new URL(PORTICO_PASSKEY_URL).origin;

/** `url` (e.g. a link the API made on PORTICO_URL) on another origin, path and query kept. */
export function onOrigin(url, origin) {
  const moved = new URL(url);
  const target = new URL(origin);
  moved.protocol = target.protocol;
  moved.host = target.host;
  return moved.href;
}

/**
 * An allowed redirect URI for flows that end outside the example apps: the
 * tests read the code from the browser's request to it (redirectFrom).
 */
export const TEST_REDIRECT_URI = 'http://127.0.0.1:3919/callback';

/** A password that passes Portico's checks. */
export const PASSWORD = 'correct horse battery staple';

// ---- management API ------------------------------------------------------------

/** Calls the management API; answers the parsed JSON, throws on any non-2xx. */
export async function api(method, path, body) {
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
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A user created through the API (email verified, so sign-in skips verification). */
export function createUser({ email, password = PASSWORD, firstName, lastName, emailVerified = true }) {
  return api('POST', '/user_management/users', {
    email,
    password,
    first_name: firstName,
    last_name: lastName,
    email_verified: emailVerified,
  });
}

export function createOrganization(name) {
  return api('POST', '/organizations', { name });
}

export function createMembership({ userId, organizationId, roleSlug }) {
  return api('POST', '/user_management/organization_memberships', {
    user_id: userId,
    organization_id: organizationId,
    role_slug: roleSlug,
  });
}

export function createPermission(slug, name = slug) {
  return api('POST', '/authorization/permissions', { slug, name });
}

/**
 * An environment role, or an organization's own role when `organizationId`
 * is given, granting `permissions` (slugs).
 */
export async function createRole({ slug, name = slug, permissions = [], organizationId }) {
  const base = organizationId ? `/authorization/organizations/${organizationId}/roles` : '/authorization/roles';
  await api('POST', base, { slug, name });
  return api('PUT', `${base}/${slug}/permissions`, { permissions });
}

export function sendInvitation({ email, organizationId, roleSlug }) {
  return api('POST', '/user_management/invitations', {
    email,
    organization_id: organizationId,
    role_slug: roleSlug,
  });
}

/** The user's sessions as the API lists them ({id, status, …}). */
export async function listSessions(userId) {
  return (await api('GET', `/user_management/users/${userId}/sessions?limit=100`)).data;
}

export async function sessionStatus(userId, sessionId) {
  const session = (await listSessions(userId)).find((s) => s.id === sessionId);
  assert.ok(session, `session ${sessionId} is listed for ${userId}`);
  return session.status;
}

/** The users with this email (0 or 1). */
export async function usersByEmail(email) {
  return (await api('GET', `/user_management/users?email=${encodeURIComponent(email)}`)).data;
}

// ---- authorization ---------------------------------------------------------------

/** A PKCE pair: the verifier the app keeps and the S256 challenge it sends. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * An /authorize URL with PKCE. Returns { url, verifier, state }. `params`
 * adds or overrides query parameters (e.g. `{ client_id: 'client_bogus' }`).
 */
export function authorizeUrl({
  redirectUri = TEST_REDIRECT_URI,
  screenHint,
  loginHint,
  organizationId,
  invitationToken,
  params = {},
} = {}) {
  const { verifier, challenge } = pkce();
  const state = uid();
  const url = new URL('/user_management/authorize', PORTICO_URL);
  const query = {
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    response_type: 'code',
    provider: 'authkit',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    screen_hint: screenHint,
    login_hint: loginHint,
    organization_id: organizationId,
    invitation_token: invitationToken,
    ...params,
  };
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return { url: url.href, verifier, state };
}

/**
 * Runs `action` (a click that ends a flow) and returns, as a URL, the
 * navigation it causes to a URL starting with `match` (a string prefix, or a
 * predicate on URL). Browsers follow the redirect back to the app on their
 * own, and Playwright cannot intercept a redirect's target, so the request is
 * only observed: with nothing listening there, the tab then shows Chromium's
 * error page, which does not matter. `origin` is where the flow ran
 * (PASSKEY_ORIGIN for the passkey tests).
 */
export async function redirectFrom(page, action, match = `${TEST_REDIRECT_URI}?`, { origin = PORTICO_ORIGIN } = {}) {
  const matches = typeof match === 'function' ? match : (url) => url.href.startsWith(match);
  const request = page.waitForRequest((r) => r.isNavigationRequest() && matches(new URL(r.url())));
  await action();
  const url = new URL((await request).url());
  // Let that navigation end (in the app, or on Chromium's error page) before
  // the test goes on; a failed navigation rejects the first wait.
  const leftPortico = () => page.waitForURL((current) => current.origin !== origin, { waitUntil: 'commit' });
  await leftPortico().catch(leftPortico);
  return url;
}

/** Exchanges an authorization code (with its PKCE verifier, and the API key as client secret). */
export async function exchangeCode(code, verifier) {
  const res = await fetch(`${PORTICO_URL}/user_management/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      client_secret: API_KEY,
      code,
      ...(verifier ? { code_verifier: verifier } : {}),
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, `the code exchange answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

const jwks = createRemoteJWKSet(new URL(`/sso/jwks/${CLIENT_ID}`, PORTICO_URL));

/** The claims of an access token, after checking its signature against the published keys. */
export async function verifyAccessToken(token) {
  return (await jwtVerify(token, jwks)).payload;
}

/**
 * The redirect back from a finished flow: checks `state` and returns the
 * verified session ({ user, claims, … }) the code exchanges for.
 */
export async function completeSignIn(redirectUrl, { verifier, state }) {
  assert.equal(redirectUrl.searchParams.get('error'), null, `no error in ${redirectUrl}`);
  if (state !== undefined) assert.equal(redirectUrl.searchParams.get('state'), state, 'state comes back unchanged');
  const code = redirectUrl.searchParams.get('code');
  assert.ok(code, `a code in ${redirectUrl}`);
  const session = await exchangeCode(code, verifier);
  return { ...session, claims: await verifyAccessToken(session.access_token) };
}

// ---- hosted pages ----------------------------------------------------------------

/**
 * What every hosted page must have: `<html lang>`, exactly one h1, a label
 * (or aria name) for every visible form field, and a CSRF token in every
 * POST form. Returns the problems.
 */
export function structureProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    if (!document.documentElement.getAttribute('lang')) problems.push('<html> has no lang');
    const h1s = document.querySelectorAll('h1').length;
    if (h1s !== 1) problems.push(`${h1s} h1 elements`);
    for (const field of document.querySelectorAll('input, select, textarea')) {
      if (field.type === 'hidden' || field.hidden) continue;
      const labelled =
        (field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`)) ||
        field.closest('label') ||
        field.getAttribute('aria-label') ||
        field.getAttribute('aria-labelledby');
      if (!labelled) problems.push(`<${field.tagName.toLowerCase()} name="${field.name}"> has no label`);
    }
    for (const form of document.querySelectorAll('form')) {
      if ((form.getAttribute('method') || 'get').toLowerCase() !== 'post') continue;
      const token = form.querySelector('input[type=hidden][name=csrf_token]');
      if (!token || !token.value) problems.push(`the form posting to ${form.getAttribute('action')} has no csrf_token`);
    }
    return problems;
  });
}

/**
 * Asserts the page is the hosted page at `path` (and, when given, that its h1
 * matches `heading`) and passes structureProblems. Returns the h1 text.
 * `origin`: PASSKEY_ORIGIN for the pages the passkey tests open.
 */
export async function expectHostedPage(page, { path, heading, origin = PORTICO_ORIGIN }) {
  const url = new URL(page.url());
  assert.equal(url.origin, origin, `on Portico, not ${url}`);
  if (path !== undefined) assert.equal(url.pathname, path, `on ${path}, not ${url.pathname}`);
  const h1 = (await page.locator('h1').first().innerText()).trim();
  if (heading instanceof RegExp) assert.match(h1, heading);
  else if (heading !== undefined) assert.equal(h1, heading);
  assert.deepEqual(await structureProblems(page), [], `structure of ${url.pathname}`);
  return h1;
}

/** The error page's code (`code[data-error-code]`), asserting it is an error page. */
export async function errorCode(page) {
  const codes = page.locator('code[data-error-code]');
  assert.equal(await codes.count(), 1, `one error code on ${page.url()}`);
  return codes.getAttribute('data-error-code');
}

/** The text of the page's alert ([role=alert]), asserting there is exactly one. */
export async function alertText(page) {
  const alerts = page.locator('[role=alert]');
  assert.equal(await alerts.count(), 1, `one alert on ${page.url()}`);
  return (await alerts.innerText()).replace(/\s+/g, ' ').trim();
}

/** Clicks the one submit button of the form holding `field`. */
export async function clickSubmit(page, field) {
  const form = page.locator('form').filter({ has: page.locator(field) });
  const buttons = form.locator('button[type=submit]');
  assert.equal(await buttons.count(), 1, `one submit button in the form of ${field}`);
  await buttons.click();
}

/** Submits the form holding `field` with its one submit button, waiting for the next page. */
export async function submitForm(page, field) {
  await Promise.all([page.waitForNavigation(), clickSubmit(page, field)]);
}

/** On /sign-in: enter the email and continue to the password page. */
export async function enterEmail(page, email) {
  await page.locator('#email').fill(email);
  await submitForm(page, '#email');
}

/** From /sign-in: email, then password; waits for the page Portico sends the browser to. */
export async function signInWithPassword(page, email, password = PASSWORD) {
  await expectHostedPage(page, { path: '/sign-in' });
  await enterEmail(page, email);
  await expectHostedPage(page, { path: '/sign-in/password' });
  await page.locator('#password').fill(password);
  await submitForm(page, '#password');
}

/** On /choose-organization: the choices as { id, text, lastUsed }, in page order. */
export async function organizationChoices(page) {
  return page.locator('button[name=organization_id]').evaluateAll((buttons) =>
    buttons.map((b) => ({
      id: b.value,
      text: b.innerText.replace(/\s+/g, ' ').trim(),
      lastUsed: Boolean(b.querySelector('.badge')),
    })),
  );
}

/** On /choose-organization: pick one. */
export async function chooseOrganization(page, organizationId) {
  await Promise.all([
    page.waitForNavigation(),
    page.locator(`button[name=organization_id][value="${organizationId}"]`).click(),
  ]);
}
