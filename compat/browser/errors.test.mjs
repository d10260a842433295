// The hosted pages when something is wrong, in Chromium: each error page
// (unknown client, unlisted redirect URI, no flow, CSRF, bad invitation,
// used reset link), the wrong-password alert, a refused organization choice;
// and what every page owes its visitors: French on ?lang=fr (remembered, and
// from Accept-Language), a sign-in done with the keyboard alone, one h1, a
// label for every field, <html lang>.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  PORTICO_URL,
  browser,
  closeBrowser,
  newPage,
  readMail,
  screenshot,
  uniqueEmail,
} from './lib/browser.mjs';
import {
  PASSWORD,
  PORTICO_ORIGIN,
  TEST_REDIRECT_URI,
  alertText,
  api,
  authorizeUrl,
  clickSubmit,
  completeSignIn,
  createMembership,
  createOrganization,
  createUser,
  enterEmail,
  errorCode,
  expectHostedPage,
  redirectFrom,
  sendInvitation,
  structureProblems,
  submitForm,
} from './lib/portico.mjs';

after(closeBrowser);

const ERROR_HEADING = 'Something went wrong';

/** Runs `body(page)` with a page in a fresh context, closed afterwards. */
async function withPage(body) {
  const page = await newPage();
  try {
    return await body(page);
  } finally {
    await page.context().close();
  }
}

/** Records every request the page makes outside Portico. */
function requestsLeavingPortico(page) {
  const seen = [];
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== PORTICO_ORIGIN) seen.push(request.url());
  });
  return seen;
}

/** Asserts the page is Portico's error page with `code` and HTTP `status`. */
async function expectErrorPage(page, response, { status, code, path, heading = ERROR_HEADING }) {
  assert.equal(response.status(), status, `HTTP ${status} for ${code}`);
  await expectHostedPage(page, { path, heading });
  assert.equal(await errorCode(page), code);
  assert.equal(await page.locator('form').count(), 0, 'an error page has no form');
}

test('authorize: unknown client, missing client_id, unlisted or missing redirect_uri → error page, never a redirect', async () => {
  await withPage(async (page) => {
    const leaving = requestsLeavingPortico(page);
    const cases = [
      { name: 'error-invalid-client', params: { client_id: 'client_01JZZZZZZZZZZZZZZZZZZZZZZZ' }, code: 'invalid_client' },
      { params: { client_id: 'not-a-client-id' }, code: 'invalid_client' },
      { params: { client_id: undefined }, code: 'missing_client_id', drop: 'client_id' },
      {
        name: 'error-invalid-redirect-uri',
        params: { redirect_uri: 'https://evil.example.com/callback' },
        code: 'invalid_redirect_uri',
      },
      // Exact match only: another path or another spelling of the host is another URI.
      { params: { redirect_uri: `${TEST_REDIRECT_URI}/more` }, code: 'invalid_redirect_uri' },
      { params: { redirect_uri: TEST_REDIRECT_URI.replace('127.0.0.1', 'localhost') }, code: 'invalid_redirect_uri' },
      { params: {}, code: 'missing_redirect_uri', drop: 'redirect_uri' },
    ];
    for (const { name, params, code, drop } of cases) {
      const url = new URL(authorizeUrl({ params }).url);
      if (drop) url.searchParams.delete(drop);
      const response = await page.goto(url.href);
      await expectErrorPage(page, response, { status: 400, code, path: '/user_management/authorize' });
      const targets = await page.locator('[href], [action], [src]').evaluateAll((els) =>
        els.map((el) => el.getAttribute('href') ?? el.getAttribute('action') ?? el.getAttribute('src')),
      );
      assert.deepEqual(targets.filter((t) => /^[a-z]+:/i.test(t) && !t.startsWith(PORTICO_ORIGIN)), [], 'no way off Portico');
      if (name) await screenshot(page, name);
    }
    assert.deepEqual(leaving, [], 'the browser never left Portico');
  });
});

test('authorize: once the redirect URI is known good, other mistakes go back to the app with error and state', async () => {
  await withPage(async (page) => {
    for (const [params, error] of [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ prompt: 'none' }, 'login_required'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
    ]) {
      const { url, state } = authorizeUrl({ params });
      const back = await redirectFrom(page, () => page.goto(url).catch(() => undefined));
      assert.equal(back.searchParams.get('error'), error, `${JSON.stringify(params)} → ${back}`);
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('code'), null);
    }
  });
});

test('no sign-in flow in this browser: every flow page says it expired', async () => {
  await withPage(async (page) => {
    for (const path of ['/sign-in', '/sign-in/password', '/sign-in/code', '/sign-up', '/verify-email', '/choose-organization']) {
      const response = await page.goto(`${PORTICO_URL}${path}`);
      await expectErrorPage(page, response, { status: 400, code: 'flow_expired', path });
      if (path === '/sign-in') await screenshot(page, 'error-flow-expired');
    }
  });
});

test('a finished flow cannot be replayed: its pages say it expired', async () => {
  const email = uniqueEmail('replay');
  await createUser({ email });
  await withPage(async (page) => {
    const { url, verifier, state } = authorizeUrl();
    await page.goto(url);
    await enterEmail(page, email);
    await page.locator('#password').fill(PASSWORD);
    await completeSignIn(await redirectFrom(page, () => clickSubmit(page, '#password')), { verifier, state });
    const response = await page.goto(`${PORTICO_URL}/sign-in/password`);
    await expectErrorPage(page, response, { status: 400, code: 'flow_expired', path: '/sign-in/password' });
  });
});

test('CSRF: a form sent without the CSRF cookie, with a forged token, or from another site is refused', async () => {
  const email = uniqueEmail('csrf');
  await withPage(async (page) => {
    const context = page.context();
    // The cookie is gone (e.g. cleared) when the form is sent.
    await page.goto(authorizeUrl().url);
    await expectHostedPage(page, { path: '/sign-in' });
    await page.locator('#email').fill(email);
    const cookies = await context.cookies(PORTICO_URL);
    assert.ok(cookies.some((c) => c.name === 'portico_csrf' && c.httpOnly), 'an HttpOnly CSRF cookie is set');
    await context.clearCookies({ name: 'portico_csrf' });
    let [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#email')]);
    await expectErrorPage(page, response, { status: 403, code: 'csrf', path: '/sign-in' });
    await screenshot(page, 'error-csrf');

    // A token that is not this browser's.
    await page.goto(authorizeUrl().url);
    await page.locator('#email').fill(email);
    await page.locator('input[name=csrf_token]').evaluate((el) => (el.value = 'A'.repeat(43)));
    [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#email')]);
    await expectErrorPage(page, response, { status: 403, code: 'csrf', path: '/sign-in' });

    // Another site's page posting this browser's real token (as if it had learnt it).
    await page.goto(authorizeUrl().url);
    const token = await page.locator('input[name=csrf_token]').inputValue();
    const attacker = 'http://attacker.example.com/';
    await page.route(attacker, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><title>Attacker</title><form method="post" action="${PORTICO_URL}/sign-in">
          <input type="hidden" name="csrf_token" value="${token}"><input type="hidden" name="email" value="${email}">
          <button type="submit">Go</button></form></html>`,
      }),
    );
    await page.goto(attacker);
    [response] = await Promise.all([page.waitForNavigation(), page.locator('button').click()]);
    await expectErrorPage(page, response, { status: 403, code: 'csrf', path: '/sign-in' });
  });
});

test('a wrong password shows the alert on the password page; the right one then signs in', async () => {
  const email = uniqueEmail('wrong-password');
  const user = await createUser({ email });
  await withPage(async (page) => {
    const { url, verifier, state } = authorizeUrl();
    await page.goto(url);
    await enterEmail(page, email);
    await page.locator('#password').fill('not the password');
    const [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#password')]);
    assert.equal(response.status(), 400);
    await expectHostedPage(page, { path: '/sign-in/password', heading: 'Enter your password' });
    assert.equal(await alertText(page), 'Please check the form The email or password is incorrect.');
    const field = page.locator('#password');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await field.getAttribute('aria-describedby'), 'form-errors');
    assert.equal(await field.inputValue(), '', 'the refused password is not echoed back');
    await screenshot(page, 'sign-in-wrong-password');

    await field.fill(PASSWORD);
    const session = await completeSignIn(await redirectFrom(page, () => clickSubmit(page, '#password')), { verifier, state });
    assert.equal(session.user.id, user.id);
  });
});

test('organization_id on /authorize skips the picker; a choice outside the user’s organizations is refused', async () => {
  const email = uniqueEmail('organizations');
  const user = await createUser({ email });
  const [a, b, outside] = await Promise.all(
    ['A', 'B', 'Outside'].map((name) => createOrganization(`${name} ${Date.now()}`)),
  );
  await createMembership({ userId: user.id, organizationId: a.id, roleSlug: 'member' });
  await createMembership({ userId: user.id, organizationId: b.id, roleSlug: 'admin' });
  await withPage(async (page) => {
    // The app asks for B: no picker.
    let flow = authorizeUrl({ organizationId: b.id });
    await page.goto(flow.url);
    await enterEmail(page, email);
    await page.locator('#password').fill(PASSWORD);
    const session = await completeSignIn(await redirectFrom(page, () => clickSubmit(page, '#password')), flow);
    assert.equal(session.claims.org_id, b.id);
    assert.equal(session.claims.role, 'admin');

    // The picker, with a choice tampered to an organization the user is not in.
    flow = authorizeUrl();
    await page.goto(flow.url);
    await enterEmail(page, email);
    await page.locator('#password').fill(PASSWORD);
    await submitForm(page, '#password');
    await expectHostedPage(page, { path: '/choose-organization' });
    const first = page.locator('button[name=organization_id]').first();
    await first.evaluate((el, id) => (el.value = id), outside.id);
    const [response] = await Promise.all([page.waitForNavigation(), first.click()]);
    assert.equal(response.status(), 422);
    await expectHostedPage(page, { path: '/choose-organization', heading: 'Choose an organization' });
    assert.equal(await alertText(page), 'Please check the form Choose one of your organizations.');
    assert.equal(await page.locator('button[name=organization_id]').count(), 2, 'the real choices are still offered');
    await screenshot(page, 'choose-organization-refused');
  });
});

test('invalid invitations: unknown token, no token, revoked invitation, token on /authorize', async () => {
  const organization = await createOrganization(`Revoked ${Date.now()}`);
  const email = uniqueEmail('revoked');
  const invitation = await sendInvitation({ email, organizationId: organization.id, roleSlug: 'admin' });
  await api('POST', `/user_management/invitations/${invitation.id}/revoke`);
  const mail = await readMail(email);
  const revokedLink = /https?:\/\/\S+\/invitation\?invitation_token=[A-Za-z0-9_-]+/.exec(mail.text)[0];
  await withPage(async (page) => {
    let response = await page.goto(`${PORTICO_URL}/invitation?invitation_token=not-a-real-token`);
    await expectErrorPage(page, response, { status: 400, code: 'invitation_invalid', path: '/invitation' });
    assert.match(await page.locator('p.lead').innerText(), /invitation cannot be used/);
    await screenshot(page, 'error-invitation-invalid');

    response = await page.goto(`${PORTICO_URL}/invitation`);
    await expectErrorPage(page, response, { status: 400, code: 'invitation_invalid', path: '/invitation' });

    response = await page.goto(revokedLink);
    await expectErrorPage(page, response, { status: 400, code: 'invitation_invalid', path: '/invitation' });

    response = await page.goto(authorizeUrl({ invitationToken: 'not-a-real-token' }).url);
    await expectErrorPage(page, response, { status: 400, code: 'invitation_invalid', path: '/user_management/authorize' });
  });
});

test('a used reset link: opening it again, or sending its form from another tab, says it no longer works', async () => {
  const email = uniqueEmail('used-reset');
  await createUser({ email });
  await withPage(async (page) => {
    await page.goto(`${PORTICO_URL}/forgot-password`);
    await page.locator('#email').fill(email);
    await submitForm(page, '#email');
    const mail = await readMail(email);
    const link = /https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_-]+/.exec(mail.text)[0];

    // Two tabs on the link; the second one uses it.
    await page.goto(link);
    await expectHostedPage(page, { path: '/reset-password', heading: 'Choose a new password' });
    const other = await page.context().newPage();
    await other.goto(link);
    await other.locator('#new_password').fill('first new passphrase');
    await submitForm(other, '#new_password');
    await expectHostedPage(other, { path: '/reset-password', heading: 'Password changed' });

    await page.locator('#new_password').fill('second new passphrase');
    let [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#new_password')]);
    assert.equal(response.status(), 400);
    await expectHostedPage(page, { path: '/reset-password', heading: 'This link no longer works' });

    response = await page.goto(link);
    assert.equal(response.status(), 400);
    await expectHostedPage(page, { path: '/reset-password', heading: 'This link no longer works' });
    // A page whose address holds a secret is neither cached nor passed on as a referrer.
    const headers = response.headers();
    assert.equal(headers['cache-control'], 'no-store');
    assert.match(headers['referrer-policy'] ?? '', /^(no-referrer|same-origin)$/);
    assert.equal(headers['x-frame-options'], 'DENY');
    await screenshot(page, 'reset-link-used');
    const again = page.getByRole('link', { name: 'Ask for a new link' });
    assert.equal(await again.getAttribute('href'), '/forgot-password');

    // And the second password was not set: the first one signs in.
    const { url, verifier, state } = authorizeUrl();
    await page.goto(url);
    await enterEmail(page, email);
    await page.locator('#password').fill('first new passphrase');
    await completeSignIn(await redirectFrom(page, () => clickSubmit(page, '#password')), { verifier, state });
  });
});

test('?lang=fr shows French and is remembered; the English link switches back; Accept-Language is honoured', async () => {
  const email = uniqueEmail('french');
  await createUser({ email });
  await withPage(async (page) => {
    await page.goto(authorizeUrl().url);
    await expectHostedPage(page, { path: '/sign-in', heading: 'Sign in to Portico' });
    await page.goto(`${PORTICO_URL}/sign-in?lang=fr`);
    await expectHostedPage(page, { path: '/sign-in', heading: 'Connexion à Portico' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    assert.equal((await page.locator('nav.languages [aria-current]').innerText()).trim(), 'Français');
    assert.equal(await page.locator('form button[type=submit]').innerText(), 'Continuer');
    await screenshot(page, 'sign-in-fr');

    // Remembered on the next pages, without ?lang.
    await enterEmail(page, email);
    await expectHostedPage(page, { path: '/sign-in/password', heading: 'Saisissez votre mot de passe' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
    await page.locator('#password').fill('pas le bon mot de passe');
    await submitForm(page, '#password');
    assert.match(await alertText(page), /L’adresse e-mail ou le mot de passe est incorrect\./);
    // Emails follow the page's language.
    await Promise.all([page.waitForNavigation(), page.locator('#email-code-form button[type=submit]').click()]);
    await expectHostedPage(page, { path: '/sign-in/code', heading: 'Consultez vos e-mails' });
    assert.match(await page.locator('p.lead').innerText(), /nous lui avons envoyé un code à 6 chiffres/);
    const mail = await readMail(email);
    assert.equal(mail.subject, 'Votre code de connexion Portico');
    assert.ok(mail.text.includes('Saisissez ce code pour vous connecter à Portico'));
    const response = await page.goto(`${PORTICO_URL}/invitation?invitation_token=nope`);
    await expectErrorPage(page, response, {
      status: 400,
      code: 'invitation_invalid',
      path: '/invitation',
      heading: 'Une erreur est survenue',
    });

    // The language links keep the page and switch back.
    await page.goto(`${PORTICO_URL}/sign-in/password`);
    const english = page.locator('nav.languages a[hreflang=en]');
    assert.equal(await english.getAttribute('lang'), 'en');
    await Promise.all([page.waitForNavigation(), english.click()]);
    await expectHostedPage(page, { path: '/sign-in/password', heading: 'Enter your password' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  });

  // A browser that prefers French gets French without asking.
  const context = await (await browser()).newContext({ locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(`${PORTICO_URL}/forgot-password`);
    await expectHostedPage(page, { path: '/forgot-password', heading: 'Réinitialiser votre mot de passe' });
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  } finally {
    await context.close();
  }
});

test('keyboard only: Tab and Enter through sign-in, with focus visible', async () => {
  const email = uniqueEmail('keyboard');
  const user = await createUser({ email });
  await withPage(async (page) => {
    const { url, verifier, state } = authorizeUrl();
    await page.goto(url);
    await expectHostedPage(page, { path: '/sign-in' });
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          tag: el.tagName.toLowerCase(),
          id: el.id,
          type: el.getAttribute('type'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          ring: style.boxShadow !== 'none',
        };
      });
    assert.equal((await focused()).id, 'email', 'the email field has focus on arrival');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    const button = await focused();
    assert.deepEqual([button.tag, button.type], ['button', 'submit'], 'Tab reaches the Continue button');
    assert.ok(button.outline || button.ring, 'the focused button shows a focus indicator');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

    await expectHostedPage(page, { path: '/sign-in/password' });
    assert.equal((await focused()).id, 'password', 'the password field has focus on arrival');
    await page.keyboard.type(PASSWORD);
    // Enter in the field submits the form.
    const back = await redirectFrom(page, () => page.keyboard.press('Enter'));
    const session = await completeSignIn(back, { verifier, state });
    assert.equal(session.user.id, user.id);
  });
});

test('every page: one h1, a label for every field, <html lang>, CSRF tokens in forms, nothing hidden shown', async () => {
  await withPage(async (page) => {
    const problems = [];
    const visited = [];
    const check = async (path) => {
      for (const problem of await structureProblems(page)) problems.push(`${path}: ${problem}`);
      // The hidden attribute must hide: a stylesheet rule with `display` must not undo it.
      const shown = await page
        .locator('[hidden]')
        .evaluateAll((els) => els.filter((el) => el.getClientRects().length > 0).map((el) => el.outerHTML));
      for (const html of shown) problems.push(`${path}: displayed despite the hidden attribute: ${html}`);
      visited.push(path);
    };
    await page.goto(authorizeUrl().url);
    await check('/sign-in');
    await enterEmail(page, uniqueEmail('structure'));
    await check('/sign-in/password');
    await Promise.all([page.waitForNavigation(), page.locator('#email-code-form button[type=submit]').click()]);
    await check('/sign-in/code');
    for (const path of ['/sign-up', '/verify-email', '/forgot-password', '/reset-password?token=x', '/signed-out']) {
      await page.goto(`${PORTICO_URL}${path}`);
      await check(path);
    }
    await page.goto(`${PORTICO_URL}/_dev/mail`);
    await check('/_dev/mail');
    await page.setViewportSize({ width: 1024, height: 1400 });
    await screenshot(page, 'dev-mailbox', { fullPage: false });
    assert.equal(visited.length, 9);
    assert.deepEqual(problems, []);
  });
});
