// A forgotten password, in Chromium: from the password page to "Forgot
// password?", the emailed link, a new password; then signing in with the new
// password works and the old one shows the error alert.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { API_KEY, CLIENT_ID, PORTICO_URL, closeBrowser, newPage, readMail, screenshot, uniqueEmail } from './lib/browser.mjs';
import {
  alertText,
  authorizeUrl,
  clickSubmit,
  completeSignIn,
  createUser,
  enterEmail,
  expectHostedPage,
  redirectFrom,
  sessionStatus,
  submitForm,
} from './lib/portico.mjs';

after(closeBrowser);

const OLD_PASSWORD = 'old password that was forgotten';
const NEW_PASSWORD = 'a brand new passphrase';

/** A password sign-in through the API: a live session that the reset must end. */
async function apiSignIn(email, password) {
  const res = await fetch(`${PORTICO_URL}/user_management/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'password',
      client_id: CLIENT_ID,
      client_secret: API_KEY,
      email,
      password,
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString()).sid;
}

test('forgot password → emailed link → new password; the new one signs in, the old one is refused', async () => {
  const email = uniqueEmail('reset');
  const user = await createUser({ email, password: OLD_PASSWORD });
  const earlierSession = await apiSignIn(email, OLD_PASSWORD);
  const { url, verifier, state } = authorizeUrl();
  const page = await newPage();
  try {
    // ---- the password page's "Forgot password?" ---------------------------
    await page.goto(url);
    await expectHostedPage(page, { path: '/sign-in' });
    await enterEmail(page, email);
    await expectHostedPage(page, { path: '/sign-in/password', heading: 'Enter your password' });
    await screenshot(page, 'sign-in-password');
    await Promise.all([page.waitForNavigation(), page.locator('#forgot-password-link').click()]);
    await expectHostedPage(page, { path: '/forgot-password', heading: 'Reset your password' });
    await screenshot(page, 'forgot-password');
    await page.locator('#email').fill(email);
    await submitForm(page, '#email');
    await expectHostedPage(page, { path: '/forgot-password', heading: 'Check your email' });
    assert.ok((await page.locator('main').innerText()).includes(email), 'the page names the address');
    await screenshot(page, 'forgot-password-check-email');

    // ---- the emailed link ----------------------------------------------------
    const mail = await readMail(email);
    assert.match(mail.subject, /Reset your .* password/);
    const link = /https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_-]+/.exec(mail.text)?.[0];
    assert.ok(link, `a reset link in ${JSON.stringify(mail.text)}`);
    assert.ok(link.startsWith(`${PORTICO_URL}/`), 'the link points at this server');
    await page.goto(link);
    await expectHostedPage(page, { path: '/reset-password', heading: 'Choose a new password' });
    await screenshot(page, 'reset-password');

    // A password Portico refuses keeps the form, with the reason.
    await page.locator('#new_password').fill('short');
    await submitForm(page, '#new_password');
    await expectHostedPage(page, { path: '/reset-password', heading: 'Choose a new password' });
    assert.match(await alertText(page), /at least 8 characters/);
    assert.equal(await page.locator('#new_password').getAttribute('aria-invalid'), 'true');

    await page.locator('#new_password').fill(NEW_PASSWORD);
    await submitForm(page, '#new_password');
    await expectHostedPage(page, { path: '/reset-password', heading: 'Password changed' });
    await screenshot(page, 'password-changed');
    assert.equal(await sessionStatus(user.id, earlierSession), 'revoked', 'the reset signs out everywhere');

    // ---- back to sign in (the same flow): old password refused, new one works ----
    await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Back to sign in' }).click()]);
    await expectHostedPage(page, { path: '/sign-in' });
    await enterEmail(page, email);
    await page.locator('#password').fill(OLD_PASSWORD);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/sign-in/password' });
    assert.equal(await alertText(page), 'Please check the form The email or password is incorrect.');
    assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');

    await page.locator('#password').fill(NEW_PASSWORD);
    const back = await redirectFrom(page, () => clickSubmit(page, '#password'));
    const session = await completeSignIn(back, { verifier, state });
    assert.equal(session.user.id, user.id);
    assert.equal(session.authentication_method, 'Password');
    assert.equal(await sessionStatus(user.id, session.claims.sid), 'active');
  } finally {
    await page.context().close();
  }
});
