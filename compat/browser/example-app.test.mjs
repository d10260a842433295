// The example apps in examples/, in Chromium, against Portico's hosted pages:
// a person signs up in examples/node-app (@workos-inc/node v11, sealed
// sessions), the admin gives them two organizations through the API, and
// they sign in again, pick an organization, switch, refresh and sign out.
// The same sign-in, switch, refresh and sign-out through
// examples/authkit-session (@workos/authkit-session with @workos-inc/node v10).
//
// Ports: node-app on 3917, authkit-session on 3918 (see compat/run.sh).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeBrowser, codeFrom, newPage, readMail, screenshot, uid, uniqueEmail } from './lib/browser.mjs';
import { readAppSession, startExample } from './lib/example.mjs';
import {
  PASSWORD,
  alertText,
  chooseOrganization,
  createMembership,
  createOrganization,
  createPermission,
  createRole,
  createUser,
  expectHostedPage,
  organizationChoices,
  sessionStatus,
  signInWithPassword,
  submitForm,
  usersByEmail,
} from './lib/portico.mjs';

const apps = {};

before(async () => {
  const [nodeApp, authkit] = await Promise.all([
    startExample('node-app', { port: 3917 }),
    startExample('authkit-session', { port: 3918 }),
  ]);
  apps.nodeApp = nodeApp;
  apps.authkit = authkit;
});

after(async () => {
  await Promise.all(Object.values(apps).map((app) => app.stop()));
  await closeBrowser();
});

/** Clicks a link or button and waits for the page it leads to (after any redirects). */
async function clickThrough(page, selector) {
  await Promise.all([page.waitForNavigation(), page.locator(selector).click()]);
}

/** Waits until the browser is on the app's home page, and returns what it shows. */
async function onAppHome(page, app) {
  await page.waitForURL((url) => url.origin === new URL(app.url).origin && url.pathname === '/');
  const alert = page.locator('[role=alert]');
  if (await alert.count()) assert.fail(`the app shows an error: ${await alert.innerText()} (app output: ${app.output()})`);
  return readAppSession(page);
}

/** With PORTICO_SCREENSHOTS=1, the page again at a phone's size (390 x 844). */
async function mobileScreenshot(page, name) {
  if (process.env.PORTICO_SCREENSHOTS !== '1') return;
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, name);
  await page.setViewportSize(size);
}

/** Two organizations, roles with permissions, and the user's memberships in both. */
async function giveOrganizations(userId) {
  const tag = uid();
  const read = `reports:read-${tag}`;
  const exportPerm = `reports:export-${tag}`;
  const billing = `billing:manage-${tag}`;
  await Promise.all([read, exportPerm, billing].map((slug) => createPermission(slug)));
  const [orgA, orgB] = await Promise.all([
    createOrganization(`Orchid ${tag}`),
    createOrganization(`Birch ${tag}`),
  ]);
  // An environment role for A and one of B's own roles.
  const analyst = `analyst-${tag}`;
  const billingAdmin = `billing-admin-${tag}`;
  await createRole({ slug: analyst, name: 'Analyst', permissions: [read, exportPerm] });
  await createRole({ slug: billingAdmin, name: 'Billing admin', permissions: [billing], organizationId: orgB.id });
  await createMembership({ userId, organizationId: orgA.id, roleSlug: analyst });
  await createMembership({ userId, organizationId: orgB.id, roleSlug: billingAdmin });
  return {
    a: { id: orgA.id, name: orgA.name, role: analyst, roleName: 'Analyst', permissions: [exportPerm, read].sort() },
    b: { id: orgB.id, name: orgB.name, role: billingAdmin, roleName: 'Billing admin', permissions: [billing] },
  };
}

describe('examples/node-app (@workos-inc/node v11)', () => {
  test('sign up, verify email, organizations from the API, pick, switch, refresh, sign out', async () => {
    const app = apps.nodeApp;
    const page = await newPage();
    try {
      const email = uniqueEmail('app');

      // ---- sign up and verify the email ----------------------------------
      await page.goto(app.url);
      await clickThrough(page, '#sign-up');
      await expectHostedPage(page, { path: '/sign-up', heading: 'Create your Portico account' });
      assert.equal(await page.locator('#email').getAttribute('readonly'), null, 'the email is editable');
      await screenshot(page, 'sign-up');
      await page.locator('#first_name').fill('Ada');
      await page.locator('#last_name').fill('Lovelace');
      await page.locator('#email').fill(email);
      await page.locator('#password').fill(PASSWORD);
      await submitForm(page, '#password');

      await expectHostedPage(page, { path: '/verify-email', heading: 'Verify your email' });
      assert.match(await page.locator('p.lead').innerText(), new RegExp(email.replace(/[.]/g, '\\.')));
      await screenshot(page, 'verify-email');
      const [created] = await usersByEmail(email);
      assert.ok(created, 'the sign-up created the user');
      assert.equal(created.email_verified, false, 'not verified before the code');
      const mail = await readMail(email);
      assert.match(mail.subject, /Verify your email/);
      // A wrong code, then "Send a new code": only the newest code counts.
      const firstCode = codeFrom(mail.text);
      await page.locator('#code').fill(firstCode === '000000' ? '111111' : '000000');
      await submitForm(page, '#code');
      await expectHostedPage(page, { path: '/verify-email' });
      assert.equal(await alertText(page), 'Please check the form The code is incorrect.');
      await Promise.all([page.waitForNavigation(), page.locator('#resend-code').click()]);
      await expectHostedPage(page, { path: '/verify-email', heading: 'Verify your email' });
      assert.equal((await page.locator('[role=status]').innerText()).trim(), 'A new code is on its way.');
      const resent = await readMail(email, { after: mail });
      await page.locator('#code').fill(codeFrom(resent.text));
      await submitForm(page, '#code');

      const signedUp = await onAppHome(page, app);
      assert.equal(await page.locator('h1').innerText(), 'Signed in as Ada Lovelace');
      assert.equal(signedUp.email, email);
      assert.equal(signedUp.userId, created.id);
      assert.equal(signedUp.organizationId, '', 'no organization yet');
      assert.deepEqual(signedUp.permissions, []);
      assert.ok(await page.locator('#no-organizations').isVisible(), 'the app lists no organization');
      const [verified] = await usersByEmail(email);
      assert.equal(verified.email_verified, true, 'the code verified the email');
      assert.equal(await sessionStatus(created.id, signedUp.sessionId), 'active');

      // ---- the admin adds the user to two organizations ------------------
      const orgs = await giveOrganizations(created.id);

      // ---- sign out --------------------------------------------------------
      await clickThrough(page, '#sign-out');
      assert.equal(page.url(), `${app.url}/`, 'Portico sent the browser back to the app');
      assert.ok(await page.locator('#sign-in').isVisible(), 'the app shows the signed-out page');
      assert.equal(await sessionStatus(created.id, signedUp.sessionId), 'revoked');

      // ---- sign in again: the organization picker --------------------------
      await clickThrough(page, '#sign-in');
      await screenshot(page, 'sign-in');
      await mobileScreenshot(page, 'sign-in-mobile');
      await signInWithPassword(page, email);
      await expectHostedPage(page, { path: '/choose-organization', heading: 'Choose an organization' });
      const choices = await organizationChoices(page);
      assert.deepEqual(choices.map((c) => c.id).sort(), [orgs.a.id, orgs.b.id].sort());
      for (const org of [orgs.a, orgs.b]) {
        const choice = choices.find((c) => c.id === org.id);
        // The picker shows the role's name; the token and the app carry its slug.
        assert.match(choice.text, new RegExp(`${org.name}.*Role: ${org.roleName}`));
        assert.equal(choice.lastUsed, false, 'nothing used yet');
      }
      await screenshot(page, 'choose-organization');
      await mobileScreenshot(page, 'choose-organization-mobile');
      await chooseOrganization(page, orgs.a.id);

      const inA = await onAppHome(page, app);
      assert.equal(inA.userId, created.id);
      assert.equal(inA.organizationId, orgs.a.id);
      assert.equal(inA.role, orgs.a.role);
      assert.deepEqual(inA.roles, [orgs.a.role]);
      assert.deepEqual(inA.permissions, orgs.a.permissions);
      assert.notEqual(inA.sessionId, signedUp.sessionId, 'a new session');
      assert.equal(await sessionStatus(created.id, inA.sessionId), 'active');
      await screenshot(page, 'example-app-signed-in');

      // ---- switch to B with the app's switcher -----------------------------
      await page.locator('#switch-organization select[name=organization_id]').selectOption(orgs.b.id);
      await Promise.all([page.waitForNavigation(), page.locator('#switch-organization button[type=submit]').click()]);
      const inB = await onAppHome(page, app);
      assert.equal(inB.notice, 'Switched organization.');
      assert.equal(inB.organizationId, orgs.b.id);
      assert.equal(inB.role, orgs.b.role);
      assert.deepEqual(inB.roles, [orgs.b.role]);
      assert.deepEqual(inB.permissions, orgs.b.permissions);
      assert.equal(inB.sessionId, inA.sessionId, 'switching keeps the session');

      // ---- refresh -----------------------------------------------------------
      await clickThrough(page, '#refresh');
      const refreshed = await onAppHome(page, app);
      assert.match(refreshed.notice ?? '', /^Session refreshed/);
      assert.equal(refreshed.sessionId, inA.sessionId, 'refreshing keeps the session');
      assert.equal(refreshed.organizationId, orgs.b.id, 'and the organization');
      assert.deepEqual(refreshed.permissions, orgs.b.permissions);
      assert.ok(refreshed.accessTokenExpires >= inB.accessTokenExpires, 'a token at least as fresh');

      // ---- sign out: Portico ends the session -------------------------------
      await clickThrough(page, '#sign-out');
      assert.equal(page.url(), `${app.url}/`);
      assert.ok(await page.locator('#sign-in').isVisible());
      assert.equal(await sessionStatus(created.id, inA.sessionId), 'revoked');
      await page.reload();
      assert.ok(await page.locator('#sign-in').isVisible(), 'still signed out after a reload');

      // ---- next time, the organization used last comes first ----------------
      await clickThrough(page, '#sign-in');
      await signInWithPassword(page, email);
      await expectHostedPage(page, { path: '/choose-organization' });
      const again = await organizationChoices(page);
      assert.deepEqual(
        again.map((c) => [c.id, c.lastUsed]),
        [
          [orgs.a.id, true],
          [orgs.b.id, false],
        ],
        'A first, marked "Last used"',
      );
      assert.match(again[0].text, /Last used/);
    } finally {
      await page.context().close();
    }
  });
});

describe('examples/authkit-session (@workos/authkit-session, @workos-inc/node v10)', () => {
  test('sign in, pick an organization, refresh, switch, sign out', async () => {
    const app = apps.authkit;
    const email = uniqueEmail('authkit');
    const user = await createUser({ email, firstName: 'Grace', lastName: 'Hopper' });
    const orgs = await giveOrganizations(user.id);
    const page = await newPage();
    try {
      await page.goto(app.url);
      await clickThrough(page, '#sign-in');
      await signInWithPassword(page, email);
      await expectHostedPage(page, { path: '/choose-organization' });
      await chooseOrganization(page, orgs.a.id);

      const inA = await onAppHome(page, app);
      assert.equal(await page.locator('h1').innerText(), 'Signed in as Grace Hopper');
      assert.equal(inA.email, email);
      assert.equal(inA.userId, user.id);
      assert.equal(inA.organizationId, orgs.a.id);
      assert.equal(inA.role, orgs.a.role);
      assert.deepEqual(inA.permissions, orgs.a.permissions);
      assert.equal(await sessionStatus(user.id, inA.sessionId), 'active');

      await clickThrough(page, '#refresh');
      const refreshed = await onAppHome(page, app);
      assert.match(refreshed.notice ?? '', /^Session refreshed/);
      assert.equal(refreshed.sessionId, inA.sessionId, 'refreshing keeps the session');
      assert.equal(refreshed.organizationId, orgs.a.id);

      await page.locator('#switch-organization select[name=organization_id]').selectOption(orgs.b.id);
      await Promise.all([page.waitForNavigation(), page.locator('#switch-organization button[type=submit]').click()]);
      const inB = await onAppHome(page, app);
      assert.equal(inB.notice, 'Switched organization.');
      assert.equal(inB.sessionId, inA.sessionId, 'switching keeps the session');
      assert.equal(inB.organizationId, orgs.b.id);
      assert.equal(inB.role, orgs.b.role);
      assert.deepEqual(inB.permissions, orgs.b.permissions);

      await clickThrough(page, '#sign-out');
      assert.equal(page.url(), `${app.url}/`, 'Portico sent the browser back to the app');
      assert.ok(await page.locator('#sign-in').isVisible(), 'the app shows the signed-out page');
      assert.equal(await sessionStatus(user.id, inA.sessionId), 'revoked');
    } finally {
      await page.context().close();
    }
  });
});
