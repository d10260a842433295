// Invitations, in Chromium: the API invites a new address to an organization
// with the `admin` role, the invitee opens the link from the email, creates
// an account on the invitation page (the email prefilled and read-only) and
// comes back signed in to the organization as admin.
//
// The emailed link starts a flow towards the client's first redirect URI,
// which is not an example app here: that test catches the redirect in the
// browser and exchanges the code itself. A WorkOS app passes the token on
// its own authorization URL instead (`invitationToken`); the example apps do
// not, so the second test adds `invitation_token` to the URL
// examples/node-app built, and the person lands back in the app.
//
// Port: examples/node-app on 3919 (see compat/run.sh).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeBrowser, newPage, readMail, screenshot, uid, uniqueEmail } from './lib/browser.mjs';
import { readAppSession, startExample } from './lib/example.mjs';
import {
  PASSWORD,
  PORTICO_ORIGIN,
  alertText,
  api,
  clickSubmit,
  completeSignIn,
  createOrganization,
  createUser,
  enterEmail,
  errorCode,
  expectHostedPage,
  redirectFrom,
  sendInvitation,
  submitForm,
  usersByEmail,
} from './lib/portico.mjs';

let app;

before(async () => {
  app = await startExample('node-app', { port: 3919 });
});

after(async () => {
  await app?.stop();
  await closeBrowser();
});

const leavesPortico = (url) => url.origin !== PORTICO_ORIGIN;

/** The invitation link in the email sent to `email`. */
async function invitationLink(email, organizationName) {
  const mail = await readMail(email);
  assert.match(mail.subject, /invited/i);
  assert.ok(mail.text.includes(organizationName), `the email names ${organizationName}`);
  const link = /https?:\/\/\S+\/invitation\?invitation_token=[A-Za-z0-9_-]+/.exec(mail.text);
  assert.ok(link, `an invitation link in ${JSON.stringify(mail.text)}`);
  return link[0];
}

/** An organization and an invitation to it as admin for a new address; the emailed link. */
async function invite(tag, organizationName = `Acme ${tag} ${uid()}`) {
  const organization = await createOrganization(organizationName);
  const email = uniqueEmail(tag);
  const invitation = await sendInvitation({ email, organizationId: organization.id, roleSlug: 'admin' });
  assert.equal(invitation.state, 'pending');
  const link = await invitationLink(email, organization.name);
  assert.equal(link, invitation.accept_invitation_url, 'the email links to the invitation');
  return { organization, email, invitation, link };
}

/** On the invitation page: "Join <org>", for `email`. */
async function expectInvitationPage(page, organization, email) {
  await expectHostedPage(page, { path: '/invitation', heading: `Join ${organization.name}` });
  assert.ok((await page.locator('p.lead').innerText()).includes(email), 'the page names the invited address');
  assert.ok(await page.locator('#accept-sign-up').isVisible());
  assert.ok(await page.locator('#accept-sign-in').isVisible());
}

/** On /sign-up for an invitation: the email is the invited one and read-only. */
async function expectInvitedSignUp(page, email) {
  await expectHostedPage(page, { path: '/sign-up' });
  const field = page.locator('#email');
  assert.equal(await field.inputValue(), email);
  assert.notEqual(await field.getAttribute('readonly'), null, 'the invited email is read-only');
}

async function invitationState(id) {
  return api('GET', `/user_management/invitations/${id}`);
}

test('the emailed link: invitation page, create an account, signed in to the organization as admin', async () => {
  const { organization, email, invitation, link } = await invite('invitee');
  const page = await newPage();
  try {
    await page.goto(link);
    await expectInvitationPage(page, organization, email);
    await screenshot(page, 'invitation');

    await Promise.all([page.waitForNavigation(), page.locator('#accept-sign-up').click()]);
    await expectInvitedSignUp(page, email);
    await screenshot(page, 'sign-up-invited');
    await page.locator('#first_name').fill('Ines');
    await page.locator('#last_name').fill('Invited');
    await page.locator('#password').fill(PASSWORD);
    // A tampered form cannot sign up another address with the invitation.
    const other = uniqueEmail('not-invited');
    await page.locator('#email').evaluate((el, value) => {
      el.removeAttribute('readonly');
      el.value = value;
    }, other);
    // No verification step (the emailed link proved the address): straight
    // back to the client's first redirect URI, wherever that is.
    const redirect = await redirectFrom(page, () => clickSubmit(page, '#password'), leavesPortico);
    assert.equal(redirect.pathname, '/callback');
    const session = await completeSignIn(redirect, {});
    assert.equal(session.user.email, email, 'the account has the invited address');
    assert.equal(session.user.email_verified, true);
    assert.deepEqual(await usersByEmail(other), [], 'no account for the tampered address');
    assert.equal(session.claims.sub, session.user.id);
    assert.equal(session.claims.org_id, organization.id);
    assert.equal(session.claims.role, 'admin');
    assert.deepEqual(session.claims.roles, ['admin']);

    const accepted = await invitationState(invitation.id);
    assert.equal(accepted.state, 'accepted');
    assert.equal(accepted.accepted_user_id, session.user.id);
    const memberships = await api(
      'GET',
      `/user_management/organization_memberships?user_id=${session.user.id}&organization_id=${organization.id}`,
    );
    assert.equal(memberships.data.length, 1);
    assert.equal(memberships.data[0].role.slug, 'admin');

    // The link is used up.
    await page.goto(link);
    await expectHostedPage(page, { path: '/invitation', heading: 'Something went wrong' });
    assert.equal(await errorCode(page), 'invitation_invalid');
  } finally {
    await page.context().close();
  }
});

test('an existing account accepts with "I already have an account"', async () => {
  // Markup in the name is text, on the page as in the email.
  const { organization, email, invitation, link } = await invite('member', `Acme <i>&amp;</i> "Co" ${uid()}`);
  const user = await createUser({ email });
  const page = await newPage();
  try {
    await page.goto(link);
    await expectInvitationPage(page, organization, email);
    assert.equal(await page.locator('h1 i').count(), 0, 'the name is not parsed as HTML');
    await Promise.all([page.waitForNavigation(), page.locator('#accept-sign-in').click()]);
    await expectHostedPage(page, { path: '/sign-in' });
    assert.equal(await page.locator('#email').inputValue(), email, 'the invited address is filled in');
    await submitForm(page, '#email');
    await expectHostedPage(page, { path: '/sign-in/password' });
    await page.locator('#password').fill(PASSWORD);
    const redirect = await redirectFrom(page, () => clickSubmit(page, '#password'), leavesPortico);
    const session = await completeSignIn(redirect, {});
    assert.equal(session.user.id, user.id);
    assert.equal(session.claims.org_id, organization.id);
    assert.equal(session.claims.role, 'admin');
    assert.equal((await invitationState(invitation.id)).state, 'accepted');
  } finally {
    await page.context().close();
  }
});

test('signing in as another account shows the alert and joins nothing', async () => {
  const { organization, email, invitation, link } = await invite('invited-elsewhere');
  const otherEmail = uniqueEmail('someone-else');
  const other = await createUser({ email: otherEmail });
  const page = await newPage();
  try {
    await page.goto(link);
    await expectInvitationPage(page, organization, email);
    await Promise.all([page.waitForNavigation(), page.locator('#accept-sign-in').click()]);
    await enterEmail(page, otherEmail);
    await page.locator('#password').fill(PASSWORD);
    const [response] = await Promise.all([page.waitForNavigation(), clickSubmit(page, '#password')]);
    assert.equal(response.status(), 400);
    await expectHostedPage(page, { path: '/sign-in/password' });
    assert.equal(await alertText(page), 'Please check the form This invitation was sent to another email address.');
    assert.equal((await invitationState(invitation.id)).state, 'pending', 'the invitation is still open');
    const memberships = await api('GET', `/user_management/organization_memberships?user_id=${other.id}`);
    assert.deepEqual(memberships.data, [], 'the other account joined nothing');
  } finally {
    await page.context().close();
  }
});

test('through the app: its authorization URL with invitation_token, back in examples/node-app as admin', async () => {
  const { organization, email, invitation, link } = await invite('app-invitee');
  const token = new URL(link).searchParams.get('invitation_token');
  const page = await newPage();
  try {
    // The app starts the sign-in (its state and PKCE cookie, in this browser) ...
    const login = await page.context().request.get(`${app.url}/login`, { maxRedirects: 0 });
    assert.equal(login.status(), 303);
    const authorize = new URL(login.headers().location);
    assert.equal(authorize.pathname, '/user_management/authorize');
    assert.equal(authorize.searchParams.get('redirect_uri'), app.redirectUri);
    // ... with the invitation token a WorkOS app passes as `invitationToken`.
    authorize.searchParams.set('invitation_token', token);
    await page.goto(authorize.href);

    await expectInvitationPage(page, organization, email);
    await Promise.all([page.waitForNavigation(), page.locator('#accept-sign-up').click()]);
    await expectInvitedSignUp(page, email);
    await page.locator('#first_name').fill('Ana');
    await page.locator('#last_name').fill('Admin');
    await page.locator('#password').fill(PASSWORD);
    await submitForm(page, '#password');

    await page.waitForURL(`${app.url}/`);
    const alert = page.locator('[role=alert]');
    if (await alert.count()) assert.fail(`the app shows an error: ${await alert.innerText()}\n${app.output()}`);
    const shown = await readAppSession(page);
    assert.equal(shown.email, email);
    assert.equal(shown.organizationId, organization.id);
    assert.equal(shown.role, 'admin');
    assert.deepEqual(shown.roles, ['admin']);
    assert.equal((await invitationState(invitation.id)).state, 'accepted');
  } finally {
    await page.context().close();
  }
});
