// Signing in with an emailed code (Magic Auth), in Chromium: "Email me a
// sign-in code instead" on the password page, a wrong code shows the alert,
// "Send a new code" sends another (and only the newest counts), the right
// code signs in. Also: a code for an address without an account creates it,
// and signing out without return_to lands on Portico's signed-out page.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PORTICO_URL, closeBrowser, codeFrom, newPage, readMail, screenshot, uniqueEmail } from './lib/browser.mjs';
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
  usersByEmail,
} from './lib/portico.mjs';

after(closeBrowser);

/** From the password page to the code page, which says a code was sent (and no "new code" notice yet). */
async function askForCode(page) {
  await Promise.all([page.waitForNavigation(), page.locator('#email-code-form button[type=submit]').click()]);
  await expectHostedPage(page, { path: '/sign-in/code', heading: 'Check your email' });
  assert.equal(new URL(page.url()).search, '');
  assert.match(await page.locator('p.lead').innerText(), /we sent a 6-digit code/);
  assert.equal(await page.locator('[role=status]').count(), 0);
}

/** A different 6-digit code. */
const wrongCode = (code) => code.slice(0, 5) + ((Number(code[5]) + 1) % 10);

test('an emailed code: wrong code alert, resend, the newest code signs in; sign-out lands on /signed-out', async () => {
  const email = uniqueEmail('magic');
  const user = await createUser({ email });
  const { url, verifier, state } = authorizeUrl();
  const page = await newPage();
  try {
    await page.goto(url);
    await enterEmail(page, email);
    await expectHostedPage(page, { path: '/sign-in/password' });
    await askForCode(page);
    assert.ok((await page.locator('p.lead').innerText()).includes(email), 'the page names the address');
    await screenshot(page, 'sign-in-code');
    const first = await readMail(email);
    assert.match(first.subject, /sign-in code/);
    const firstCode = codeFrom(first.text);

    // A wrong code: the alert, on the same page.
    await page.locator('#code').fill(wrongCode(firstCode));
    await submitForm(page, '#code');
    await expectHostedPage(page, { path: '/sign-in/code' });
    assert.equal(await alertText(page), 'Please check the form The code is incorrect.');
    assert.equal(await page.locator('#code').getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'sign-in-code-wrong');

    // "Send a new code": a second email; only the newest code counts.
    await Promise.all([page.waitForNavigation(), page.locator('#resend-code').click()]);
    assert.equal(new URL(page.url()).pathname, '/sign-in/code');
    assert.equal((await page.locator('[role=status]').innerText()).trim(), 'A new code is on its way.');
    const second = await readMail(email, { after: first });
    assert.notEqual(second.id, first.id);
    const secondCode = codeFrom(second.text);
    if (secondCode !== firstCode) {
      await page.locator('#code').fill(firstCode);
      await submitForm(page, '#code');
      assert.equal(await alertText(page), 'Please check the form The code is incorrect.', 'the replaced code is refused');
    }

    await page.locator('#code').fill(secondCode);
    const back = await redirectFrom(page, () => clickSubmit(page, '#code'));
    const session = await completeSignIn(back, { verifier, state });
    assert.equal(session.user.id, user.id);
    assert.equal(session.authentication_method, 'MagicAuth');
    assert.equal(await sessionStatus(user.id, session.claims.sid), 'active');

    // Signing out without return_to: Portico's own page.
    await page.goto(`${PORTICO_URL}/user_management/sessions/logout?session_id=${session.claims.sid}`);
    await expectHostedPage(page, { path: '/signed-out', heading: 'You are signed out' });
    await screenshot(page, 'signed-out');
    assert.equal(await sessionStatus(user.id, session.claims.sid), 'revoked');
  } finally {
    await page.context().close();
  }
});

test('a code for an address without an account creates it, verified', async () => {
  const email = uniqueEmail('magic-new');
  const { url, verifier, state } = authorizeUrl({ loginHint: email });
  const page = await newPage();
  try {
    await page.goto(url);
    await expectHostedPage(page, { path: '/sign-in' });
    assert.equal(await page.locator('#email').inputValue(), email, 'login_hint fills in the address');
    await submitForm(page, '#email');
    await askForCode(page);
    const mail = await readMail(email);
    await page.locator('#code').fill(codeFrom(mail.text));
    const back = await redirectFrom(page, () => clickSubmit(page, '#code'));
    const session = await completeSignIn(back, { verifier, state });
    assert.equal(session.user.email, email);
    assert.equal(session.user.email_verified, true);
    const [created] = await usersByEmail(email);
    assert.equal(created?.id, session.user.id);
  } finally {
    await page.context().close();
  }
});

test('"Use another email" on the code page goes back to an empty email form', async () => {
  const email = uniqueEmail('magic-change');
  await createUser({ email });
  const { url } = authorizeUrl();
  const page = await newPage();
  try {
    await page.goto(url);
    await enterEmail(page, email);
    await askForCode(page);
    const change = page.getByRole('link', { name: 'Use another email' });
    assert.equal(await change.count(), 1);
    await Promise.all([page.waitForNavigation(), change.click()]);
    await expectHostedPage(page, { path: '/sign-in' });
    assert.equal(await page.locator('#email').inputValue(), '');
  } finally {
    await page.context().close();
  }
});
