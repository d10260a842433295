// Organization sign-in policies, in Chromium: an admin requires two-step
// verification with a grace period (the dry run names who is not ready, they
// are reminded by email and still sign in), then ends the grace with
// "enforce now" (their session ends); at their next sign-in they set up an
// authenticator (QR code or typed key, a first code, recovery codes shown
// once) and land in the organization. Later sign-ins ask for a code (a wrong
// one, a right one, a recovery code that works once); the hosted organization
// switcher steps a session up before it enters an organization that requires
// it; an IP allowlist refuses sign-ins and refreshes from other networks; the
// pages in French and with the keyboard alone.
//
// The codes come from compat/lib/totp.mjs, which computes them from the key
// the set-up page shows, as an authenticator app would (the Node tests check
// it against RFC 6238's examples).
//
// The flows return to TEST_REDIRECT_URI (127.0.0.1:3919, see compat/run.sh):
// the test reads the code from the browser's request there and exchanges it,
// as the app's backend would; for the switcher, the test asks for the
// switcher link as the app's backend does. No example app is started here.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { API_KEY, CLIENT_ID, PORTICO_URL, closeBrowser, newPage, readMail, screenshot, uid, uniqueEmail } from './lib/browser.mjs';
import {
  PASSWORD,
  PORTICO_ORIGIN,
  TEST_REDIRECT_URI,
  alertText,
  api,
  authorizeUrl,
  chooseOrganization,
  clickSubmit,
  completeSignIn,
  createMembership,
  createOrganization,
  createUser,
  enterEmail,
  expectHostedPage,
  listSessions,
  pkce,
  redirectFrom,
  sessionStatus,
  submitForm,
} from './lib/portico.mjs';
import { authenticator, newSecret, wrongCode } from '../lib/totp.mjs';

after(closeBrowser);

const SETUP_HEADING = 'Set up two-step verification';
const SETUP_LEAD =
  'Your organization requires a second step when you sign in: a code from an authenticator app on your phone.';
const RECOVERY_HEADING = 'Save your recovery codes';
const VERIFY_HEADING = 'Two-step verification';
const VERIFY_LEAD = 'Enter the code from your authenticator app to finish signing in.';
const WRONG_CODE_ALERT = 'Please check the form The code is incorrect.';
const POLICY_REFUSED = 'Your organization’s security policy stops this sign-in';
const NETWORK_REFUSED =
  'Your organization does not allow sign-in from this network. Connect from your office network or VPN, or ask your administrator.';
const ELSEWHERE = '203.0.113.0/24'; // TEST-NET-3: never 127.0.0.1
// Crockford's base32 (no i, l, o, u), in three groups of four.
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

// ---- helpers ---------------------------------------------------------------------

/** Runs `body(page)` with a page in a fresh context, closed afterwards. */
async function withPage(body) {
  const page = await newPage();
  try {
    return await body(page);
  } finally {
    await page.context().close();
  }
}

const putPolicy = (organizationId, body) => api('PUT', `/organizations/${organizationId}/policy`, body);
const getPolicy = (organizationId) => api('GET', `/organizations/${organizationId}/policy`);
const dryRun = (organizationId, body) => api('POST', `/organizations/${organizationId}/policy/dry_run`, body);

/** An organization and a member of it (with a password), unique to the test. */
async function memberOf(tag, { organization, firstName = 'Mira', lastName = 'Member' } = {}) {
  const org = organization ?? (await createOrganization(`${tag[0].toUpperCase()}${tag.slice(1)} ${uid()}`));
  const email = uniqueEmail(`mfa-${tag}`);
  const user = await createUser({ email, firstName, lastName });
  await createMembership({ userId: user.id, organizationId: org.id, roleSlug: 'member' });
  return { org, email, user };
}

/**
 * The refresh-token grant as an app's backend sends it (with the API key):
 * answers `{ status, body }` without throwing.
 */
async function refresh(refreshToken) {
  const res = await fetch(`${PORTICO_URL}/user_management/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      client_secret: API_KEY,
      refresh_token: refreshToken,
    }),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Starts a sign-in as the app does (its authorization URL, in English unless
 * `lang` is given), enters the email and the password without sending it yet.
 * Returns the flow's { verifier, state }.
 */
async function toPassword(page, email, { lang } = {}) {
  const { url, verifier, state } = authorizeUrl();
  await page.goto(url);
  if (lang) await page.goto(`${PORTICO_URL}/sign-in?lang=${lang}`);
  await expectHostedPage(page, { path: '/sign-in' });
  await enterEmail(page, email);
  await expectHostedPage(page, { path: '/sign-in/password' });
  await page.locator('#password').fill(PASSWORD);
  return { verifier, state };
}

/** Runs `action` (the click that ends the flow), exchanges the code: the app's session. */
async function backInApp(page, action, flow) {
  return completeSignIn(await redirectFrom(page, action), flow);
}

/** The user's active sessions' ids. */
async function activeSessions(userId) {
  return (await listSessions(userId)).filter((s) => s.status === 'active').map((s) => s.id);
}

/** Text of an element with its whitespace folded. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/**
 * On /mfa/setup: the QR code is a PNG that loaded, "Can’t scan it?" reveals
 * the key; returns the key (spaces removed).
 */
async function readSetupKey(page) {
  const qr = page.locator('#totp-qr');
  assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/, 'the QR code is a PNG data URL');
  const loaded = await qr.evaluate((img) => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0);
  assert.ok(loaded, 'the QR image decodes in the browser');
  assert.ok(((await qr.getAttribute('alt')) ?? '').length > 0, 'the QR image has a text alternative');
  const key = page.locator('#totp-secret');
  if (!(await key.isVisible())) {
    assert.equal(await page.locator('details summary').count(), 1, 'one “Can’t scan it?” disclosure');
    await page.locator('details summary').click();
  }
  assert.ok(await key.isVisible(), 'the key shows once the disclosure is open');
  const grouped = (await key.textContent()).trim();
  assert.match(grouped, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})*$/, `the key in groups of four: ${JSON.stringify(grouped)}`);
  const secret = grouped.replace(/\s+/g, '');
  assert.equal(secret.length, 32, 'a 160-bit key');
  return secret;
}

/** On /mfa/setup: the key read from the page, a first code; lands on the recovery codes. */
async function setUpAuthenticator(page) {
  const phone = authenticator(await readSetupKey(page));
  await page.locator('#code').fill(await phone.next());
  await submitForm(page, '#code');
  const codes = await readRecoveryCodes(page);
  return { phone, codes };
}

/**
 * A recovery code as a person may type it: capitals, no dashes, each 0 as O,
 * each 1 as I or L in turn.
 */
function misread(code) {
  let ones = 0;
  return code
    .replace(/-/g, '')
    .toUpperCase()
    .replace(/0/g, 'O')
    .replace(/1/g, () => (ones++ % 2 === 0 ? 'I' : 'L'));
}

/** On the recovery-codes page: its ten codes. */
async function readRecoveryCodes(page) {
  await expectHostedPage(page, { path: '/mfa/setup', heading: RECOVERY_HEADING });
  const codes = (await page.locator('#recovery-codes li code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10, `ten recovery codes: ${JSON.stringify(codes)}`);
  for (const code of codes) assert.match(code, RECOVERY_CODE);
  assert.equal(new Set(codes).size, 10, 'all different');
  assert.equal(await page.locator('#recovery-continue').count(), 1);
  return codes;
}

// ---- 1. grace, then enforcement ------------------------------------------------

test('MFA with a 7-day grace: dry run, reminder, sign-in without it; "enforce now" ends the session; set-up at the next sign-in', async () => {
  // A plain name: the set-up page's notice names it in the docs' screenshot.
  const meridian = await createOrganization('Meridian');
  const { org, email, user } = await memberOf('meridian', { organization: meridian, firstName: 'Nora', lastName: 'Grace' });
  const grace = { mfa: { required: true, grace_period_days: 7 } };

  // ---- the dry run names the member who has no second factor -------------------
  const report = await dryRun(org.id, grace);
  assert.equal(report.object, 'organization_policy_dry_run');
  assert.equal(report.member_count, 1);
  assert.equal(report.affected_member_count, 1);
  assert.equal(report.members.length, 1);
  assert.equal(report.members[0].user_id, user.id);
  assert.equal(report.members[0].email, email);
  assert.deepEqual(
    report.members[0].findings.map((f) => [f.rule, f.code]),
    [['mfa', 'mfa_enrollment']],
  );
  assert.match(report.members[0].findings[0].message, /grace/);
  assert.equal(report.members[0].sessions_ended_by_enforce_now, 0);
  assert.equal((await getPolicy(org.id)).mfa.required, false, 'a dry run saves nothing');

  // ---- the policy, with its grace; the reminder goes out at once -----------------
  const saved = await putPolicy(org.id, grace);
  assert.equal(saved.object, 'organization_policy');
  assert.equal(saved.mfa.required, true);
  assert.equal(saved.revoked_session_count, 0);
  const enforcedFrom = Date.parse(saved.mfa.enforced_from);
  const sevenDays = 7 * 24 * 3600 * 1000;
  assert.ok(Math.abs(enforcedFrom - (Date.now() + sevenDays)) < 10 * 60 * 1000, `enforced from in 7 days: ${saved.mfa.enforced_from}`);
  assert.equal((await getPolicy(org.id)).mfa.enforced_from, saved.mfa.enforced_from);
  const reminder = await readMail(email);
  assert.match(reminder.subject, /two-step verification/);
  assert.ok(reminder.text.includes(org.name), 'the reminder names the organization');

  const page = await newPage();
  try {
    // ---- during the grace: offered the set-up, "Not now" signs in without it ------
    let flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/soon', heading: 'Two-step verification is coming' });
    const deadline = saved.mfa.enforced_from.slice(0, 10);
    assert.equal(
      await textOf(page.locator('p.lead')),
      `${org.name} will require two-step verification to sign in from ${deadline}.`,
    );
    assert.equal(await page.locator('#grace-set-up').getAttribute('href'), '/mfa/setup');
    await screenshot(page, 'mfa-grace');
    const inGrace = await backInApp(page, () => page.locator('#grace-later').click(), flow);
    assert.equal(inGrace.user.id, user.id);
    assert.equal(inGrace.claims.org_id, org.id, 'signed in to the organization');
    const graceSession = inGrace.claims.sid;
    assert.equal(await sessionStatus(user.id, graceSession), 'active');

    // ---- the admin ends the grace, now ---------------------------------------------
    const now = { mfa: { required: true }, enforce_now: true };
    const wouldEnd = await dryRun(org.id, now);
    assert.equal(wouldEnd.affected_member_count, 1);
    assert.equal(wouldEnd.sessions_ended_by_enforce_now, 1, 'the dry run counts the live session');
    assert.equal(wouldEnd.members[0].sessions_ended_by_enforce_now, 1);
    assert.equal(await sessionStatus(user.id, graceSession), 'active', 'a dry run ends nothing');
    const enforced = await putPolicy(org.id, now);
    assert.equal(enforced.revoked_session_count, 1);
    assert.deepEqual(enforced.mfa, { required: true, enforced_from: null }, 'no grace left');
    assert.equal(await sessionStatus(user.id, graceSession), 'revoked', 'enforce now ended the session');
    const refused = await refresh(inGrace.refresh_token);
    assert.equal(refused.status, 400, `the app's refresh is refused: ${JSON.stringify(refused.body)}`);

    // ---- the next sign-in: set up, with the reason ----------------------------------
    flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/setup', heading: SETUP_HEADING });
    assert.equal(
      await textOf(page.locator('p.lead')),
      `Your previous session in ${org.name} was ended: it now requires two-step verification.`,
    );
    assert.equal(await page.locator('[role=alert]').count(), 0, 'no alert yet');
    const key = await readSetupKey(page);
    await screenshot(page, 'mfa-setup');

    // A wrong code: the same page, the same key, an alert.
    await page.locator('#code').fill(wrongCode(key));
    await submitForm(page, '#code');
    await expectHostedPage(page, { path: '/mfa/setup', heading: SETUP_HEADING });
    assert.equal(await alertText(page), WRONG_CODE_ALERT);
    assert.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
    assert.equal(await readSetupKey(page), key, 'the same key after a wrong code');
    assert.equal((await dryRun(org.id, { mfa: { required: true } })).affected_member_count, 1, 'nothing counts yet');
    const pending = (await api('GET', `/user_management/users/${user.id}/auth_factors`)).data.map((f) => f.id);

    // The right code: recovery codes, then back in the app.
    const phone = authenticator(key);
    await page.locator('#code').fill(await phone.next());
    await submitForm(page, '#code');
    await readRecoveryCodes(page);
    assert.match(await textOf(page.locator('p.lead')), /shown only now/);
    await screenshot(page, 'mfa-recovery-codes');
    const enrolled = await backInApp(page, () => page.locator('#recovery-continue').click(), flow);
    assert.equal(enrolled.user.id, user.id);
    assert.equal(enrolled.claims.org_id, org.id, 'signed in to the organization');
    assert.notEqual(enrolled.claims.sid, graceSession, 'a new session');
    assert.equal(await sessionStatus(user.id, enrolled.claims.sid), 'active');
    assert.equal((await refresh(enrolled.refresh_token)).status, 200, 'the new session refreshes');
    const factors = (await api('GET', `/user_management/users/${user.id}/auth_factors`)).data;
    assert.deepEqual(factors.map((f) => f.type), ['totp'], 'one authenticator');
    assert.deepEqual(factors.map((f) => f.id), pending, 'the one the page set up');
    assert.equal(factors[0].totp?.secret, undefined, 'the API never shows the key again');
    const compliant = await dryRun(org.id, { mfa: { required: true } });
    assert.equal(compliant.affected_member_count, 0, 'the member complies now');

    // ---- the sign-in after that asks for a code -------------------------------------
    flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), VERIFY_LEAD, 'the notice about the ended session is gone');
    await screenshot(page, 'mfa-verify');
    await page.locator('#code').fill(await phone.next());
    const verified = await backInApp(page, () => clickSubmit(page, '#code'), flow);
    assert.equal(verified.claims.org_id, org.id);
  } finally {
    await page.context().close();
  }
});

// ---- 2. verify at the next sign-in ---------------------------------------------------

test('a second factor at every sign-in: reloading the recovery codes goes on; a wrong code, the right one; a recovery code works once', async () => {
  const { org, email, user } = await memberOf('quarry', { firstName: 'Vic', lastName: 'Verify' });
  await putPolicy(org.id, { mfa: { required: true } });

  // First sign-in: set up (the organization's reason, no session was ended).
  const { phone, codes } = await withPage(async (page) => {
    const flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/setup', heading: SETUP_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), SETUP_LEAD);
    const enrolled = await setUpAuthenticator(page);
    // Reloading the recovery codes sends the set-up form again (Chromium
    // re-POSTs without asking): the person goes on to the app, no second
    // enrollment starts.
    const resent = page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === '/mfa/setup');
    const session = await backInApp(page, () => page.reload().catch(() => undefined), flow);
    assert.equal((await resent).method(), 'POST', 'the reload sent the form again');
    assert.equal(session.user.id, user.id);
    assert.equal(session.claims.org_id, org.id);
    const factors = (await api('GET', `/user_management/users/${user.id}/auth_factors`)).data;
    assert.equal(factors.length, 1, `one factor after the reload: ${JSON.stringify(factors)}`);
    return enrolled;
  });

  // Next sign-in, another browser: a wrong code, then the right one.
  await withPage(async (page) => {
    const flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), VERIFY_LEAD);
    assert.equal(await page.locator('label[for=code]').count(), 1);
    await page.locator('#code').fill(wrongCode(phone.secret));
    await submitForm(page, '#code');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await alertText(page), WRONG_CODE_ALERT);
    assert.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
    await page.locator('#code').fill(await phone.next());
    const session = await backInApp(page, () => clickSubmit(page, '#code'), flow);
    assert.equal(session.user.id, user.id);
    assert.equal(session.claims.org_id, org.id);
  });

  // A recovery code instead of the phone: accepted once.
  await withPage(async (page) => {
    const flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    await page.locator('#code').fill(codes[0]);
    const session = await backInApp(page, () => clickSubmit(page, '#code'), flow);
    assert.equal(session.claims.org_id, org.id);
  });
  await withPage(async (page) => {
    const flow = await toPassword(page, email);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    await page.locator('#code').fill(codes[0]);
    await submitForm(page, '#code');
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    assert.equal(await alertText(page), WRONG_CODE_ALERT, 'a used recovery code is refused');
    // Another one, typed in capitals without its dashes and with the letters
    // people read 0 and 1 as (O, I, L; the alphabet has none of them), still works.
    const typed = misread(codes.slice(1).find((c) => /[01]/.test(c)) ?? codes[1]);
    await page.locator('#code').fill(typed);
    const session = await backInApp(page, () => clickSubmit(page, '#code'), flow);
    assert.equal(session.claims.org_id, org.id);
  });
});

// ---- 3. the organization switcher steps up ------------------------------------------

/**
 * What the app's backend does for "All organizations…": asks Portico for a
 * switcher link for the session; returns the link with the PKCE verifier and
 * state to finish with.
 */
async function switcherLink(sessionId) {
  const { verifier, challenge } = pkce();
  const state = uid();
  const link = await api('POST', `/user_management/sessions/${sessionId}/organization_switch`, {
    client_id: CLIENT_ID,
    redirect_uri: TEST_REDIRECT_URI,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  assert.equal(link.object, 'organization_switch');
  assert.equal(link.session_id, sessionId);
  return { url: link.url, verifier, state };
}

/** Signs in (two organizations: the picker) and picks `organizationId`; the app's session. */
async function signInTo(page, email, organizationId) {
  const flow = await toPassword(page, email);
  await submitForm(page, '#password');
  await expectHostedPage(page, { path: '/choose-organization', heading: 'Choose an organization' });
  // The choice ends the flow: the browser goes straight back to the app.
  return backInApp(page, () => page.locator(`button[name=organization_id][value="${organizationId}"]`).click(), flow);
}

/** Opens a switcher link and picks `organizationId` on Portico's hosted switcher. */
async function switchTo(page, link, organizationId, currentId) {
  await page.goto(link.url);
  await expectHostedPage(page, { path: '/choose-organization', heading: 'Switch organization' });
  const current = await page
    .locator('button[name=organization_id]')
    .filter({ has: page.locator('.badge', { hasText: 'Current' }) })
    .getAttribute('value');
  assert.equal(current, currentId, 'the session’s organization is marked current');
  await chooseOrganization(page, organizationId);
}

test('the hosted switcher: from an organization without a policy into one that requires MFA, through set-up or a code', async () => {
  const [strict, open] = await Promise.all([
    createOrganization(`Strict ${uid()}`),
    createOrganization(`Open ${uid()}`),
  ]);
  await putPolicy(strict.id, { mfa: { required: true } });

  // ---- no second factor yet: set up on the way ------------------------------------
  const sam = await memberOf('switch', { organization: open, firstName: 'Sam', lastName: 'Switch' });
  await createMembership({ userId: sam.user.id, organizationId: strict.id, roleSlug: 'member' });
  await withPage(async (page) => {
    const inOpen = await signInTo(page, sam.email, open.id);
    assert.equal(inOpen.claims.org_id, open.id, 'in the organization without a policy, with a password only');
    const sessionId = inOpen.claims.sid;

    const link = await switcherLink(sessionId);
    await switchTo(page, link, strict.id, open.id);
    await expectHostedPage(page, { path: '/mfa/setup', heading: SETUP_HEADING });
    assert.equal(await textOf(page.locator('p.lead')), SETUP_LEAD);
    await setUpAuthenticator(page);
    // Opening the set-up page again once it is done (instead of "continue") goes on too.
    const inStrict = await backInApp(page, () => page.goto(`${PORTICO_URL}/mfa/setup`).catch(() => undefined), link);
    assert.equal(inStrict.claims.org_id, strict.id, 'in the organization that requires MFA');
    assert.equal(inStrict.claims.sid, sessionId, 'the same session, stepped up');
    assert.deepEqual(await activeSessions(sam.user.id), [sessionId], 'no other session');
    const factors = (await api('GET', `/user_management/users/${sam.user.id}/auth_factors`)).data;
    assert.equal(factors.length, 1, `one factor: ${JSON.stringify(factors)}`);
    const refreshed = await refresh(inStrict.refresh_token);
    assert.equal(refreshed.status, 200, `the stepped-up session refreshes in it: ${JSON.stringify(refreshed.body)}`);
    assert.equal(refreshed.body.organization_id, strict.id);
  });

  // ---- a factor added since the sign-in: a code on the way --------------------------
  const kim = await memberOf('switch-verify', { organization: open, firstName: 'Kim', lastName: 'Code' });
  await createMembership({ userId: kim.user.id, organizationId: strict.id, roleSlug: 'member' });
  await withPage(async (page) => {
    const inOpen = await signInTo(page, kim.email, open.id);
    const sessionId = inOpen.claims.sid;

    // The app sets up an authenticator through the API meanwhile.
    const key = newSecret();
    const phone = authenticator(key);
    const enrolled = await api('POST', `/user_management/users/${kim.user.id}/auth_factors`, {
      type: 'totp',
      totp_secret: key,
    });
    const answer = await api('POST', `/auth/challenges/${enrolled.authentication_challenge.id}/verify`, {
      code: await phone.next(),
    });
    assert.equal(answer.valid, true, 'the factor is verified');

    const link = await switcherLink(sessionId);
    await switchTo(page, link, strict.id, open.id);
    await expectHostedPage(page, { path: '/mfa/verify', heading: VERIFY_HEADING });
    await page.locator('#code').fill(await phone.next());
    const inStrict = await backInApp(page, () => clickSubmit(page, '#code'), link);
    assert.equal(inStrict.claims.org_id, strict.id);
    assert.equal(inStrict.claims.sid, sessionId, 'the same session, stepped up');
  });
});

// ---- 4. IP allowlist ---------------------------------------------------------------

test('an IP allowlist: sign-in from another network is refused with the reason; so is a refresh, until the admin adds the network', async () => {
  const { org, email, user } = await memberOf('harbor', { firstName: 'Ines', lastName: 'Network' });

  await withPage(async (page) => {
    // Signed in before the policy.
    let flow = await toPassword(page, email);
    const signedIn = await backInApp(page, () => clickSubmit(page, '#password'), flow);
    assert.equal(signedIn.claims.org_id, org.id);

    const policy = { ip_allowlist: [ELSEWHERE] };
    const wouldEnd = await dryRun(org.id, policy);
    assert.equal(wouldEnd.affected_member_count, 1);
    assert.equal(wouldEnd.members[0].user_id, user.id);
    assert.deepEqual(wouldEnd.members[0].findings.map((f) => f.rule), ['ip_allowlist']);
    assert.equal(wouldEnd.sessions_ended_by_enforce_now, 1);
    const saved = await putPolicy(org.id, policy);
    assert.deepEqual(saved.ip_allowlist, [ELSEWHERE]);
    assert.equal(saved.revoked_session_count, 0, 'without enforce_now no session ends');

    // The app's refresh, from 127.0.0.1: refused, and the session stays as it was.
    const refused = await refresh(signedIn.refresh_token);
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'access_denied', JSON.stringify(refused.body));
    assert.equal(await sessionStatus(user.id, signedIn.claims.sid), 'active');

    // A new sign-in: the password is right, the network is not.
    flow = await toPassword(page, email);
    const [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#password')]);
    // Nothing typed was wrong: a page of its own says what stops the sign-in, no form to retry.
    await expectHostedPage(page, { path: '/sign-in/password' });
    assert.equal(response.status(), 403, 'refused with 403');
    assert.equal((await page.locator('h1').innerText()).trim(), POLICY_REFUSED);
    assert.equal((await page.locator('p.lead').innerText()).replace(/\s+/g, ' ').trim(), NETWORK_REFUSED);
    assert.equal(await page.locator('[data-error-code]').getAttribute('data-error-code'), 'ip_address_not_allowed');
    assert.equal(await page.locator('#password').count(), 0, 'no password field to mark wrong');
    await screenshot(page, 'sign-in-network-refused');

    // The admin adds this network: the same refresh token and the same flow go through.
    await putPolicy(org.id, { ip_allowlist: [ELSEWHERE, '127.0.0.0/8'] });
    const refreshed = await refresh(signedIn.refresh_token);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    await page.goto(`${PORTICO_URL}/sign-in/password`);
    await page.locator('#password').fill(PASSWORD);
    const allowed = await backInApp(page, () => clickSubmit(page, '#password'), flow);
    assert.equal(allowed.claims.org_id, org.id);
  });
});

// ---- 5. French, the keyboard, page structure -----------------------------------------

test('in French and with the keyboard alone: set-up, recovery codes and the code at the next sign-in; one h1 and labelled fields', async () => {
  const { org, email } = await memberOf('lumiere', { firstName: 'Léa', lastName: 'Clavier' });
  await putPolicy(org.id, { mfa: { required: true } });

  await withPage(async (page) => {
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          tag: el.tagName.toLowerCase(),
          id: el.id,
          type: el.getAttribute('type'),
          visible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
        };
      });

    let flow = await toPassword(page, email, { lang: 'fr' });
    await expectHostedPage(page, { path: '/sign-in/password', heading: 'Saisissez votre mot de passe' });
    await page.locator('#password').focus();
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

    // ---- set-up, in French ----------------------------------------------------------
    await expectHostedPage(page, { path: '/mfa/setup', heading: 'Activez la validation en deux étapes' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.match(await page.title(), /Activez la validation en deux étapes/);
    assert.equal(await textOf(page.locator('details summary')), 'Impossible de scanner ?');
    assert.equal(await textOf(page.locator('form button[type=submit]')), 'Activer la validation en deux étapes');
    assert.equal(await page.locator('label[for=code]').count(), 1);
    assert.equal((await focused()).id, 'code', 'the code field has focus on arrival');

    // Shift+Tab reaches "Can’t scan it?", Enter opens it; Tab comes back to the field.
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused()).tag, 'summary', 'Shift+Tab from the field reaches the disclosure');
    assert.ok((await focused()).visible, 'the focused disclosure shows a focus indicator');
    await page.keyboard.press('Enter');
    assert.ok(await page.locator('#totp-secret').isVisible(), 'Enter opened it');
    const phone = authenticator(await readSetupKey(page));
    await page.keyboard.press('Tab');
    assert.equal((await focused()).id, 'code', 'Tab goes on to the code field');
    await page.keyboard.type(await phone.next());
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

    // ---- recovery codes, in French --------------------------------------------------
    await expectHostedPage(page, { path: '/mfa/setup', heading: 'Conservez vos codes de récupération' });
    assert.equal(await page.locator('#recovery-codes li code').count(), 10);
    let reached = false;
    for (let i = 0; i < 20 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = (await focused()).id === 'recovery-continue';
    }
    assert.ok(reached, 'Tab reaches the continue button');
    assert.ok((await focused()).visible, 'the focused button shows a focus indicator');
    assert.equal(await textOf(page.locator('#recovery-continue')), 'Je les ai conservés — continuer');
    const enrolled = await backInApp(page, () => page.keyboard.press('Enter'), flow);
    assert.equal(enrolled.claims.org_id, org.id);

    // ---- the next sign-in: the language is remembered ------------------------------
    flow = await toPassword(page, email);
    await page.locator('#password').press('Enter');
    await page.waitForURL((url) => url.origin === PORTICO_ORIGIN && url.pathname === '/mfa/verify');
    await expectHostedPage(page, { path: '/mfa/verify', heading: 'Validation en deux étapes' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.equal(await page.locator('label[for=code]').count(), 1);
    assert.equal((await focused()).id, 'code', 'the code field has focus on arrival');
    await page.keyboard.type(await phone.next());
    await page.keyboard.press('Tab');
    const button = await focused();
    assert.deepEqual([button.tag, button.type], ['button', 'submit'], 'Tab reaches the Valider button');
    assert.ok(button.visible, 'the focused button shows a focus indicator');
    const verified = await backInApp(page, () => page.keyboard.press('Enter'), flow);
    assert.equal(verified.claims.org_id, org.id);
  });
});
