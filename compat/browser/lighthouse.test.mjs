// Lighthouse, the Rust example app in examples/b2b-axum (axum and
// portico-sdk), in Chromium against Portico's hosted pages: people of an
// organization "Acme" sign in with each of Lighthouse's roles (admin,
// billing_admin, member, read_only) and see only what their permissions
// open, while the server refuses the rest (pages, forms and the JSON API);
// an admin invites, revokes, changes a role and removes a member, and cannot
// touch their own role or another organization's members; the header switcher
// moves between organizations in one click or through Portico's hosted
// switcher; sign-out ends the session at Portico; forms posted from another
// origin are refused. On Security, the admin of another organization requires
// two-step verification: a preview names who is not ready and saves nothing,
// the rule is saved with a 7-day grace (keeping a rule set through the API),
// a member puts the set-up off on Portico's offer, then the admin enforces it
// at once (sessions end) and the member sets it up at the next sign-in. A
// member opens their passkeys on Portico from the header and adds one.
//
// Lighthouse is the prebuilt binary (PORTICO_EXAMPLE_B2B_BIN, which
// compat/run.sh sets). On start it creates its permissions and roles in
// Portico; the people, organizations and memberships come from the API here.
//
// Port: Lighthouse on 3920 (see compat/run.sh).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PORTICO_URL, closeBrowser, newPage, readMail, screenshot, uid, uniqueEmail } from './lib/browser.mjs';
import { startLighthouse } from './lib/example.mjs';
import { authenticator } from '../lib/totp.mjs';
import {
  PORTICO_ORIGIN,
  alertText,
  api,
  chooseOrganization,
  createMembership,
  createOrganization,
  createUser,
  expectHostedPage,
  listSessions,
  sendInvitation,
  sessionStatus,
  signInWithPassword,
  structureProblems,
  submitForm,
} from './lib/portico.mjs';

const PORT = 3920;

/** What each of Lighthouse's roles permits (it provisions them on start). */
const ROLES = [
  {
    slug: 'admin',
    name: 'Admin',
    permissions: ['projects:read', 'projects:write', 'settings:manage', 'billing:manage', 'members:manage'],
  },
  { slug: 'billing_admin', name: 'Billing admin', permissions: ['projects:read', 'billing:manage'] },
  { slug: 'member', name: 'Member', permissions: ['projects:read', 'projects:write'] },
  { slug: 'read_only', name: 'Read only', permissions: ['projects:read'] },
];

/** Lighthouse's pages, in the header's order: [path, link text, permission]. */
const PAGES = [
  ['/projects', 'Projects', 'projects:read'],
  ['/members', 'Members', 'members:manage'],
  ['/settings', 'Settings', 'settings:manage'],
  ['/security', 'Security', 'settings:manage'],
  ['/billing', 'Billing', 'billing:manage'],
];

const FORBIDDEN_HEADING = 'You can’t do that here';
const READ_ONLY_NOTICE = 'Your role can read projects but not create them.';

let app;
let acme;
let globex;
/** The organization whose admin requires two-step verification on /security. */
let initech;
/**
 * The people, by key: { user, email, membership } (membership: in Acme, or in
 * Globex for `globex`, or in Initech for `initech_*`).
 */
const people = {};

before(async () => {
  app = await startLighthouse({ port: PORT });
  [acme, globex, initech] = await Promise.all([
    createOrganization('Acme'),
    createOrganization('Globex'),
    createOrganization('Initech'),
  ]);
  const person = async (key, firstName, lastName, organization, roleSlug) => {
    const email = uniqueEmail(`lighthouse-${key.replace(/_/g, '-')}`);
    const user = await createUser({ email, firstName, lastName });
    const membership = await createMembership({ userId: user.id, organizationId: organization.id, roleSlug });
    people[key] = { user, email, membership };
  };
  await person('admin', 'Ada', 'Admin', acme, 'admin');
  await person('billing_admin', 'Bea', 'Billing', acme, 'billing_admin');
  await person('member', 'Max', 'Member', acme, 'member');
  await person('read_only', 'Rae', 'Reader', acme, 'read_only');
  await person('promoted', 'Cal', 'Change', acme, 'member'); // the admin makes them read_only
  await person('leaving', 'Lee', 'Leaving', acme, 'member'); // the admin removes them
  await person('globex', 'Gus', 'Globex', globex, 'member'); // out of reach of Acme's admin
  // Member of Acme and admin of Globex: the organization picker and the switcher.
  await person('switcher', 'Sam', 'Switch', acme, 'member');
  people.switcher.globexMembership = await createMembership({
    userId: people.switcher.user.id,
    organizationId: globex.id,
    roleSlug: 'admin',
  });
  // Initech, on its own: its admin requires two-step verification, which would
  // change every sign-in above if it were Acme.
  await person('initech_admin', 'Ines', 'Admin', initech, 'admin');
  await person('initech_member', 'Milo', 'Member', initech, 'member');
  await person('initech_read_only', 'Rita', 'Reader', initech, 'read_only');
  // Adds a passkey, which every later password sign-in of theirs would then ask for.
  await person('passkey', 'Pat', 'Passkey', acme, 'member');
});

after(async () => {
  await app?.stop();
  await closeBrowser();
});

// ---- helpers ---------------------------------------------------------------------

/** Clicks a link or button (a locator) and waits for the page it leads to (after any redirects). */
async function clickThrough(page, locator) {
  const [response] = await Promise.all([page.waitForNavigation(), locator.click()]);
  return response;
}

/** Waits until the browser is on Lighthouse's `path`. */
async function onLighthouse(page, path) {
  const origin = new URL(app.url).origin;
  await page.waitForURL((url) => url.origin === origin && url.pathname === path);
}

/**
 * What every Lighthouse page owes its visitors: <html lang>, one h1, a label
 * for every field. (Lighthouse's forms carry no CSRF token: it refuses
 * cross-origin posts by their Origin instead, tested below.)
 */
async function expectLighthousePage(page, { path, heading }) {
  await onLighthouse(page, path);
  const h1 = (await page.locator('h1').first().innerText()).trim();
  if (heading !== undefined) assert.equal(h1, heading, `the h1 of ${path}`);
  const problems = (await structureProblems(page)).filter((p) => !p.includes('csrf_token'));
  assert.deepEqual(problems, [], `structure of ${path}`);
  return h1;
}

/** From Lighthouse's home page: "Sign in", then the email and password on Portico's pages. */
async function enterPassword(page, email) {
  await page.goto(`${app.url}/`);
  await expectLighthousePage(page, { path: '/', heading: 'Lighthouse' });
  await clickThrough(page, page.getByRole('link', { name: 'Sign in', exact: true }));
  await signInWithPassword(page, email);
}

/** From Lighthouse's home page: "Sign in", the hosted pages (and the picker), back on /projects. */
async function signIn(page, email, { organizationId } = {}) {
  await enterPassword(page, email);
  if (organizationId !== undefined) {
    await expectHostedPage(page, { path: '/choose-organization', heading: 'Choose an organization' });
    await chooseOrganization(page, organizationId);
  }
  await expectLighthousePage(page, { path: '/projects', heading: 'Projects' });
}

/** What the header shows: organization, role, navigation links, the signed-in person. */
async function readHeader(page) {
  const switcher = page.locator('header.top [data-testid=org-switcher]');
  return {
    organization: (await switcher.locator('summary .org').innerText()).trim(),
    role: (await switcher.locator('summary .role').innerText()).trim(),
    nav: (await page.locator('header.top nav a').allInnerTexts()).map((t) => t.trim()),
    current: (await page.locator('header.top nav a[aria-current=page]').allInnerTexts()).map((t) => t.trim()),
    user: ((await page.locator('header.top .who span').textContent()) ?? '').trim(),
  };
}

/** The header links these permissions open, in order. */
function navFor(permissions) {
  return PAGES.filter(([, , permission]) => permissions.includes(permission)).map(([, label]) => label);
}

/**
 * fetch() from the page's own document (same origin, the session cookie goes
 * along): a form body (`form`) or a JSON one (`json`). Answers { status,
 * type, text, json } (json when the answer is JSON).
 */
function fetchFromPage(page, path, { method = 'GET', form, json } = {}) {
  return page.evaluate(
    async ({ path, method, form, json }) => {
      const init = { method, headers: {} };
      if (form) init.body = new URLSearchParams(form);
      if (json) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(json);
      }
      const res = await fetch(path, init);
      const type = res.headers.get('content-type') || '';
      const text = await res.text();
      return { status: res.status, type, text, json: type.startsWith('application/json') ? JSON.parse(text) : undefined };
    },
    { path, method, form, json },
  );
}

/**
 * Adds a form to the page and submits it, as a forged or hand-made form
 * would; waits for the page the browser lands on and returns its response.
 */
async function postForm(page, action, fields = {}) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.evaluate(
      ({ action, fields }) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = action;
        for (const [name, value] of Object.entries(fields)) {
          const input = document.createElement('input');
          input.type = 'hidden';
          input.name = name;
          input.value = value;
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      },
      { action, fields },
    ),
  ]);
  return response;
}

/** The project names /projects lists, with who created each: [[name, createdBy], …]. */
async function listedProjects(page) {
  return page.locator('main table tbody tr').evaluateAll((rows) =>
    rows
      .map((row) => [...row.querySelectorAll('td')].map((td) => td.innerText.trim()))
      .filter((cells) => cells.length === 2),
  );
}

/** The row of `email` on /members. */
function memberRow(page, email) {
  return page.locator(`main tr[data-email="${email}"]`);
}

/** The success notice on a Lighthouse page. */
async function noticeText(page) {
  const notices = page.locator('main p.notice');
  assert.equal(await notices.count(), 1, `one notice on ${page.url()}`);
  return (await notices.innerText()).trim();
}

function getMembership(id) {
  return api('GET', `/user_management/organization_memberships/${id}`);
}

async function membershipsOf(userId) {
  return (await api('GET', `/user_management/organization_memberships?user_id=${userId}&limit=100`)).data;
}

/** The ids of the user's active sessions. */
async function activeSessions(userId) {
  return (await listSessions(userId)).filter((s) => s.status === 'active').map((s) => s.id);
}

/** What Lighthouse calls each permission on its refusal page. */
const PERMISSION_NAMES = {
  'projects:read': 'Read projects',
  'projects:write': 'Create and edit projects',
  'settings:manage': 'Manage organization settings',
  'billing:manage': 'Manage billing',
  'members:manage': 'Manage members',
};

/** The 403 page a guarded Lighthouse page answers for the wrong role. */
async function expectForbidden(page, response, permission) {
  assert.equal(response.status(), 403, `${page.url()} answers 403`);
  await expectLighthousePage(page, { path: new URL(page.url()).pathname, heading: FORBIDDEN_HEADING });
  assert.equal(await page.title(), `${FORBIDDEN_HEADING} · Lighthouse`);
  assert.equal(
    (await page.locator('main .card p').first().innerText()).trim(),
    `Your role in this organization does not include “${PERMISSION_NAMES[permission]}”. Ask an admin if you need it.`,
  );
  assert.equal(await page.locator('[data-testid=org-switcher]').count(), 0, 'no signed-in header on the refusal');
}

// ---- each role -------------------------------------------------------------------

describe('Lighthouse: what each role sees and what the server refuses', () => {
  for (const role of ROLES) {
    test(`${role.slug}: header links, projects, direct URLs and /api/projects follow ${role.permissions.join(', ')}`, async () => {
      const person = people[role.slug];
      const can = (permission) => role.permissions.includes(permission);
      const page = await newPage();
      try {
        await signIn(page, person.email);

        // ---- the header ----------------------------------------------------
        const header = await readHeader(page);
        assert.deepEqual(header.nav, navFor(role.permissions), 'the links match the permissions exactly');
        assert.deepEqual(header.current, ['Projects']);
        assert.equal(header.organization, 'Acme');
        assert.equal(header.role, role.name);
        assert.equal(header.user, person.email);
        assert.equal(
          (await page.locator('main p.lead').innerText()).trim(),
          'Everything Acme is working on.',
        );

        // ---- projects: the form, or the read-only notice and refusals ------
        const createForm = page.locator('form[data-testid=new-project]');
        const readOnly = page.locator('[data-testid=read-only]');
        const refusedName = `Refused ${uid()}`;
        const created = [];
        if (can('projects:write')) {
          assert.equal(await readOnly.count(), 0, 'no read-only notice');
          assert.equal(await createForm.count(), 1, 'the create form');
          const name = `Beacon ${role.slug} ${uid()}`;
          await page.locator('#name').fill(name);
          await submitForm(page, '#name');
          await expectLighthousePage(page, { path: '/projects', heading: 'Projects' });
          assert.ok(
            (await listedProjects(page)).some(([n, by]) => n === name && by === person.email),
            `${name} is listed, created by ${person.email}`,
          );
          created.push(name);
          if (role.slug === 'member') await screenshot(page, 'lighthouse-projects-member');

          // The JSON API creates too (same session cookie).
          const apiName = `Buoy ${role.slug} ${uid()}`;
          const posted = await fetchFromPage(page, '/api/projects', { method: 'POST', json: { name: apiName } });
          assert.equal(posted.status, 201, posted.text);
          assert.deepEqual(posted.json, { name: apiName, created_by: person.email });
          created.push(apiName);
        } else {
          assert.equal(await createForm.count(), 0, 'no create form');
          assert.equal(await page.locator('#name').count(), 0, 'no project name field');
          assert.equal((await readOnly.innerText()).trim(), READ_ONLY_NOTICE);
          if (role.slug === 'read_only') await screenshot(page, 'lighthouse-projects-read-only');

          // The form's POST, made from the page anyway: refused by the server.
          const refused = await fetchFromPage(page, '/projects/new', { method: 'POST', form: { name: refusedName } });
          assert.equal(refused.status, 403);
          assert.match(refused.text, new RegExp(`<h1>${FORBIDDEN_HEADING}</h1>`));
          assert.match(refused.text, /does not include “Create and edit projects”/);

          // And through the JSON API: a JSON refusal naming the permission.
          const apiRefused = await fetchFromPage(page, '/api/projects', { method: 'POST', json: { name: refusedName } });
          assert.equal(apiRefused.status, 403, apiRefused.text);
          assert.match(apiRefused.type, /^application\/json/);
          assert.equal(apiRefused.json.error, 'forbidden');
          assert.equal(apiRefused.json.required_permission, 'projects:write');

          await page.reload();
          assert.ok(
            !(await listedProjects(page)).some(([n]) => n === refusedName),
            'the refused project was not created',
          );
        }

        // ---- GET /api/projects with the session cookie ---------------------
        const listed = await fetchFromPage(page, '/api/projects');
        assert.equal(listed.status, 200, listed.text);
        assert.equal(listed.json.organization_id, acme.id);
        const names = listed.json.projects.map((p) => p.name);
        for (const name of created) assert.ok(names.includes(name), `${name} in /api/projects`);
        assert.ok(!names.includes(refusedName));

        // ---- the other pages, by URL -----------------------------------------
        for (const [path, label, permission] of PAGES.slice(1)) {
          const response = await page.goto(`${app.url}${path}`);
          if (can(permission)) {
            assert.equal(response.status(), 200, `${path} answers 200 to ${role.slug}`);
            await expectLighthousePage(page, { path, heading: label });
            assert.deepEqual((await readHeader(page)).current, [label]);
          } else {
            await expectForbidden(page, response, permission);
            if (role.slug === 'read_only' && path === '/settings') await screenshot(page, 'lighthouse-forbidden');
          }
        }

        // ---- billing_admin changes the plan ----------------------------------
        if (role.slug === 'billing_admin') {
          await page.goto(`${app.url}/billing`);
          await page.locator('#plan').selectOption('team');
          await submitForm(page, '#plan');
          await expectLighthousePage(page, { path: '/billing', heading: 'Billing' });
          assert.equal(await noticeText(page), 'Plan changed.');
          assert.equal((await page.locator('[data-testid=plan]').innerText()).trim(), 'Team');
          await screenshot(page, 'lighthouse-billing');
          await page.goto(`${app.url}/billing`);
          assert.equal(await page.locator('#plan').inputValue(), 'team', 'the new plan is kept');
          // Settings stays closed to billing admins.
          await expectForbidden(page, await page.goto(`${app.url}/settings`), 'settings:manage');
        }
      } finally {
        await page.context().close();
      }
    });
  }
});

// ---- members ---------------------------------------------------------------------

describe('Lighthouse /members as admin', () => {
  test('invite and revoke, change a role (seen at the next sign-in), remove; never their own role', async () => {
    const admin = people.admin;
    const promoted = people.promoted;
    const leaving = people.leaving;
    const page = await newPage();
    const promotedPage = await newPage();
    try {
      // The member whose role will change is signed in meanwhile, as member.
      await signIn(promotedPage, promoted.email);
      assert.equal((await readHeader(promotedPage)).role, 'Member');
      assert.equal(await promotedPage.locator('form[data-testid=new-project]').count(), 1);

      await signIn(page, admin.email);
      await clickThrough(page, page.locator('header.top nav').getByRole('link', { name: 'Members', exact: true }));
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal((await page.locator('main p.lead').innerText()).trim(), 'People in Acme and what they can do.');

      // Everyone in Acme is listed; nobody from Globex.
      const listedEmails = await page.locator('main tr[data-email]').evaluateAll((rows) => rows.map((r) => r.dataset.email));
      for (const key of ['admin', 'billing_admin', 'member', 'read_only', 'promoted', 'leaving', 'switcher']) {
        assert.ok(listedEmails.includes(people[key].email), `${key} is listed`);
      }
      assert.ok(!listedEmails.includes(people.globex.email), 'a Globex member is not listed');

      // No controls on the admin's own row: "You".
      const own = memberRow(page, admin.email);
      assert.equal((await own.locator('td').nth(1).innerText()).trim(), 'Admin');
      assert.equal((await own.locator('.badge').innerText()).trim(), 'You');
      assert.equal(await own.locator('select, button, form').count(), 0, 'no role select or buttons for "You"');
      // Others have them.
      const promotedRow = memberRow(page, promoted.email);
      assert.equal(await promotedRow.getByRole('combobox', { name: `Role of ${promoted.email}` }).inputValue(), 'member');
      assert.equal(await promotedRow.getByRole('button', { name: `Remove ${promoted.email}` }).count(), 1);

      // ---- invite, then revoke -------------------------------------------------
      const invitee = uniqueEmail('lighthouse-invitee');
      await page.locator('#email').fill(invitee);
      await page.locator('#invite-role').selectOption('member');
      await submitForm(page, '#email');
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await noticeText(page), `Invitation sent to ${invitee}.`);
      const pending = page.locator('main section.card').filter({ has: page.locator('h2', { hasText: 'Pending invitations' }) });
      const pendingRow = pending.locator('tr', { hasText: invitee });
      assert.equal(await pendingRow.count(), 1, 'the invitation is pending');
      assert.deepEqual(
        (await pendingRow.locator('td').allInnerTexts()).map((t) => t.trim()),
        [invitee, 'Member', 'Revoke'],
      );
      const invitations = (await api('GET', `/user_management/invitations?organization_id=${acme.id}&limit=100`)).data;
      const invitation = invitations.find((i) => i.email === invitee);
      assert.ok(invitation, 'the API lists the invitation');
      assert.equal(invitation.state, 'pending');
      assert.equal(invitation.role_slug, 'member');
      const mail = await readMail(invitee);
      assert.match(mail.subject, /invited/i);
      assert.ok(mail.text.includes('Acme'), 'the email names Acme');
      await screenshot(page, 'lighthouse-members');

      await clickThrough(page, pendingRow.getByRole('button', { name: `Revoke the invitation of ${invitee}` }));
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await noticeText(page), `The invitation of ${invitee} was revoked.`);
      assert.equal(await page.locator('main tr', { hasText: invitee }).count(), 0, 'no longer pending');
      assert.equal((await api('GET', `/user_management/invitations/${invitation.id}`)).state, 'revoked');

      // ---- change a role: member → read_only --------------------------------
      await memberRow(page, promoted.email).locator('select').selectOption('read_only');
      await clickThrough(page, memberRow(page, promoted.email).getByRole('button', { name: 'Change role' }));
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await noticeText(page), `${promoted.email} is now read_only.`);
      assert.equal((await memberRow(page, promoted.email).locator('td').nth(1).innerText()).trim(), 'Read only');
      assert.equal((await getMembership(promoted.membership.id)).role.slug, 'read_only');

      // Their next sign-in carries the new role.
      await clickThrough(promotedPage, promotedPage.getByRole('button', { name: 'Sign out' }));
      await onLighthouse(promotedPage, '/');
      await signIn(promotedPage, promoted.email);
      const reSignedIn = await readHeader(promotedPage);
      assert.equal(reSignedIn.role, 'Read only');
      assert.deepEqual(reSignedIn.nav, ['Projects']);
      assert.equal((await promotedPage.locator('[data-testid=read-only]').innerText()).trim(), READ_ONLY_NOTICE);
      assert.equal(await promotedPage.locator('form[data-testid=new-project]').count(), 0);
      const refused = await fetchFromPage(promotedPage, '/api/projects', { method: 'POST', json: { name: 'Nope' } });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.required_permission, 'projects:write');

      // ---- remove a member -----------------------------------------------------
      await clickThrough(page, memberRow(page, leaving.email).getByRole('button', { name: `Remove ${leaving.email}` }));
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await noticeText(page), `${leaving.email} was removed.`);
      assert.equal(await memberRow(page, leaving.email).count(), 0, 'no longer listed');
      assert.deepEqual(
        (await membershipsOf(leaving.user.id)).filter((m) => m.organization_id === acme.id),
        [],
        'the API has no Acme membership for them',
      );

      // ---- their own role, with a hand-made form: refused ---------------------
      await postForm(page, `/members/${admin.membership.id}/role`, { role_slug: 'read_only' });
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await alertText(page), 'You cannot change your own role.');
      await postForm(page, `/members/${admin.membership.id}/remove`);
      assert.equal(await alertText(page), 'You cannot remove yourself.');
      const ownMembership = await getMembership(admin.membership.id);
      assert.equal(ownMembership.role.slug, 'admin');
      assert.equal(ownMembership.status, 'active');
    } finally {
      await page.context().close();
      await promotedPage.context().close();
    }
  });

  test("an admin of Acme cannot change, remove or revoke in Globex by guessing ids", async () => {
    const gus = people.globex;
    const globexInvitation = await sendInvitation({
      email: uniqueEmail('lighthouse-globex-invitee'),
      organizationId: globex.id,
      roleSlug: 'member',
    });
    const page = await newPage();
    try {
      await signIn(page, people.admin.email);
      await page.goto(`${app.url}/members`);

      let response = await postForm(page, `/members/${gus.membership.id}/role`, { role_slug: 'admin' });
      assert.equal(response.status(), 200);
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await alertText(page), 'That member is not in this organization.');
      assert.equal(await page.locator('main p.notice').count(), 0, 'no success notice');

      response = await postForm(page, `/members/${gus.membership.id}/remove`);
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await alertText(page), 'That member is not in this organization.');

      await postForm(page, `/invitations/${globexInvitation.id}/revoke`);
      await expectLighthousePage(page, { path: '/members', heading: 'Members' });
      assert.equal(await alertText(page), 'That invitation is not for this organization.');

      // Nothing changed in Globex.
      const membership = await getMembership(gus.membership.id);
      assert.equal(membership.organization_id, globex.id);
      assert.equal(membership.role.slug, 'member');
      assert.equal(membership.status, 'active');
      assert.equal((await api('GET', `/user_management/invitations/${globexInvitation.id}`)).state, 'pending');
    } finally {
      await page.context().close();
    }
  });
});

// ---- switching organizations -------------------------------------------------------

describe('Lighthouse organization switcher', () => {
  test('one click to Globex in the header menu; "All organizations…" opens Portico\'s switcher; back to Acme', async () => {
    const sam = people.switcher;
    const page = await newPage();
    try {
      const earlier = new Set(await activeSessions(sam.user.id));
      // Two organizations: Portico's picker, then Acme.
      await signIn(page, sam.email, { organizationId: acme.id });
      const sessions = (await activeSessions(sam.user.id)).filter((id) => !earlier.has(id));
      assert.equal(sessions.length, 1, 'one new session');
      const [sessionId] = sessions;
      let header = await readHeader(page);
      assert.equal(header.organization, 'Acme');
      assert.equal(header.role, 'Member');
      assert.deepEqual(header.nav, ['Projects']);

      // ---- the header menu -----------------------------------------------------
      const switcher = page.locator('header.top [data-testid=org-switcher]');
      const menu = switcher.locator('.menu');
      assert.equal(await menu.isVisible(), false, 'the menu starts closed');
      await switcher.locator('summary').click();
      assert.equal(await menu.isVisible(), true, 'the summary opens the menu');
      assert.equal((await menu.locator('.menu-title').textContent()).trim(), 'Switch organization'); // shown upper-case
      assert.deepEqual(
        (await menu.locator('ul button').allInnerTexts()).map((t) => t.trim()),
        ['Globex'],
        'the other organization, and only it',
      );
      const all = menu.getByRole('link', { name: 'All organizations…' });
      assert.equal(await all.isVisible(), true);
      await screenshot(page, 'lighthouse-switcher-menu');

      await clickThrough(page, menu.getByRole('button', { name: 'Globex', exact: true }));
      await expectLighthousePage(page, { path: '/projects', heading: 'Projects' });
      header = await readHeader(page);
      assert.equal(header.organization, 'Globex');
      assert.equal(header.role, 'Admin');
      assert.deepEqual(header.nav, ['Projects', 'Members', 'Settings', 'Security', 'Billing'], 'Members (and the rest) appear');
      assert.equal((await fetchFromPage(page, '/api/projects')).json.organization_id, globex.id);
      assert.equal((await page.goto(`${app.url}/members`)).status(), 200, 'an admin of Globex now');
      await page.goto(`${app.url}/projects`);

      // ---- Portico's hosted switcher -------------------------------------------
      await switcher.locator('summary').click();
      await Promise.all([
        page.waitForURL((url) => url.origin === PORTICO_ORIGIN && url.pathname === '/choose-organization'),
        all.click(),
      ]);
      await expectHostedPage(page, { path: '/choose-organization', heading: 'Switch organization' });
      assert.match(await page.title(), /Switch organization/);
      const choices = await page.locator('button[name=organization_id]').evaluateAll((buttons) =>
        buttons.map((b) => ({
          id: b.value,
          name: b.querySelector('.choice-name')?.innerText.trim(),
          badges: [...b.querySelectorAll('.badge')].map((badge) => badge.innerText.trim()),
        })),
      );
      assert.deepEqual(
        choices.sort((a, b) => a.name.localeCompare(b.name)),
        [
          { id: acme.id, name: 'Acme', badges: [] },
          { id: globex.id, name: 'Globex', badges: ['Current'] },
        ],
        'both organizations, the current one marked',
      );
      await screenshot(page, 'lighthouse-switch-organization');

      await chooseOrganization(page, acme.id);
      await expectLighthousePage(page, { path: '/projects', heading: 'Projects' });
      header = await readHeader(page);
      assert.equal(header.organization, 'Acme');
      assert.equal(header.role, 'Member');
      assert.deepEqual(header.nav, ['Projects']);
      assert.equal((await fetchFromPage(page, '/api/projects')).json.organization_id, acme.id);
      await expectForbidden(page, await page.goto(`${app.url}/members`), 'members:manage');

      // Both switches kept the one session.
      assert.equal(await sessionStatus(sam.user.id, sessionId), 'active');
      assert.deepEqual(
        (await activeSessions(sam.user.id)).filter((id) => !earlier.has(id)),
        [sessionId],
        'no other session was started',
      );
    } finally {
      await page.context().close();
    }
  });
});

// ---- sign-out and other sites ------------------------------------------------------

describe('Lighthouse passkeys', () => {
  // Passkeys work at PORTICO_PASSKEY_URL (localhost; browsers refuse them for an
  // IP address), and Portico's passkeys-page links open there.
  const PASSKEY_ORIGIN = new URL(process.env.PORTICO_PASSKEY_URL || PORTICO_URL.replace('127.0.0.1', 'localhost')).origin;

  test('"Passkeys" in the header opens Portico\'s passkeys page for the session; one is added; "Done" comes back', async () => {
    const person = people.passkey;
    const page = await newPage();
    try {
      await signIn(page, person.email);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });

      await clickThrough(page, page.locator('header.top').getByRole('link', { name: 'Passkeys', exact: true }));
      await page.waitForURL((url) => url.origin === PASSKEY_ORIGIN && url.pathname === '/passkeys');
      assert.equal(new URL(page.url()).search, '', 'the one-time token is gone from the address bar');
      assert.equal((await page.locator('h1').innerText()).trim(), 'Your passkeys');
      assert.equal((await page.locator('#no-passkeys').innerText()).trim(), 'You have no passkeys yet.');
      assert.equal(await page.locator('#back-to-app').getAttribute('href'), `${app.url}/projects`);

      // Just signed in, so adding needs no confirmation.
      await Promise.all([page.waitForURL((url) => url.search === '?done=added'), page.locator('#passkey-add').click()]);
      assert.equal(
        (await page.locator('.notice[role=status]').innerText()).trim(),
        'Passkey added. You can use it the next time you sign in.',
      );
      assert.deepEqual(await page.locator('#passkey-list .passkey-name').allInnerTexts(), ['Chrome on Linux']);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1, 'the browser holds the new passkey');
      const listed = await api('GET', `/user_management/users/${person.user.id}/passkeys`);
      assert.equal(listed.data.length, 1, JSON.stringify(listed));
      assert.equal(Buffer.from(credentials[0].userHandle, 'base64').toString(), person.user.id);

      await clickThrough(page, page.locator('#back-to-app'));
      await expectLighthousePage(page, { path: '/projects', heading: 'Projects' });
    } finally {
      await page.context().close();
    }
  });
});

describe('Lighthouse sign-out and cross-site forms', () => {
  test('"Sign out" ends the session at Portico and lands on the home page; /projects then sends home', async () => {
    const person = people.member;
    const page = await newPage();
    try {
      const earlier = new Set(await activeSessions(person.user.id));
      await signIn(page, person.email);
      const [sessionId] = (await activeSessions(person.user.id)).filter((id) => !earlier.has(id));
      assert.ok(sessionId, 'the sign-in started a session');

      const response = await clickThrough(page, page.locator('header.top').getByRole('button', { name: 'Sign out' }));
      assert.equal(page.url(), `${app.url}/`, 'Portico sent the browser back to Lighthouse');
      assert.equal(response.status(), 200);
      await expectLighthousePage(page, { path: '/', heading: 'Lighthouse' });
      assert.equal(await page.getByRole('link', { name: 'Sign in', exact: true }).count(), 1);
      assert.equal(await page.locator('[data-testid=org-switcher]').count(), 0, 'no signed-in header');
      await screenshot(page, 'lighthouse-home');
      assert.equal(await sessionStatus(person.user.id, sessionId), 'revoked');

      await page.goto(`${app.url}/projects`);
      assert.equal(page.url(), `${app.url}/`, '/projects sends a signed-out visitor home');
      const apiAnswer = await fetchFromPage(page, '/api/projects');
      assert.equal(apiAnswer.status, 401);
      assert.equal(apiAnswer.json.error, 'unauthenticated');

      // Signing in again asks for the password: Portico's session is over too.
      await clickThrough(page, page.getByRole('link', { name: 'Sign in', exact: true }));
      await expectHostedPage(page, { path: '/sign-in' });
    } finally {
      await page.context().close();
    }
  });

  test('a POST to /projects/new from another origin is refused 403, even with the session cookie', async () => {
    const person = people.member;
    const page = await newPage();
    try {
      await signIn(page, person.email);
      const foreign = `Foreign ${uid()}`;

      // With another site's Origin (the context's cookies go along).
      const withOrigin = await page.request.post(`${app.url}/projects/new`, {
        form: { name: foreign },
        headers: { Origin: 'https://attacker.example' },
        maxRedirects: 0,
      });
      assert.equal(withOrigin.status(), 403);
      assert.match(await withOrigin.text(), /This form was sent from another site\./);

      // A real form on a page of Portico's origin: same site (127.0.0.1), so
      // the SameSite=Lax cookie is sent, but another origin.
      await page.goto(`${PORTICO_URL}/health`);
      const fromPortico = await postForm(page, `${app.url}/projects/new`, { name: foreign });
      assert.equal(fromPortico.status(), 403);
      await expectLighthousePage(page, { path: '/projects/new', heading: 'Request refused' });
      assert.match(await page.locator('main').innerText(), /This form was sent from another site\./);

      // The same request with Lighthouse's own Origin goes through: the Origin made the difference.
      const control = `Own origin ${uid()}`;
      const ownOrigin = await page.request.post(`${app.url}/projects/new`, {
        form: { name: control },
        headers: { Origin: app.url },
        maxRedirects: 0,
      });
      assert.equal(ownOrigin.status(), 303);
      assert.equal(ownOrigin.headers().location, '/projects');

      await page.goto(`${app.url}/projects`);
      const names = (await listedProjects(page)).map(([name]) => name);
      assert.ok(!names.includes(foreign), 'the cross-site posts created nothing');
      assert.ok(names.includes(control));
    } finally {
      await page.context().close();
    }
  });
});

// ---- security: two-step verification -----------------------------------------------

const MFA_OFF = 'Off: members sign in with their password or an emailed code.';
const MFA_REQUIRED = 'Required: every member verifies with an authenticator app.';
/** The status line while a grace period runs, until `date` (YYYY-MM-DD). */
const mfaRequiredFrom = (date) =>
  `Required from ${date}: until then members without it are offered the set-up and reminded by email.`;
const MFA_FINDING_GRACE = /^Has no second factor; must enroll one from (\S+) \(end of the grace period\)\.$/;
const MFA_FINDING_NOW = 'Has no second factor; must enroll one at their next sign-in.';

function getPolicy(organizationId) {
  return api('GET', `/organizations/${organizationId}/policy`);
}

/** A policy's rules other than MFA: what saving from /security must leave alone. */
function otherRules(policy) {
  const { allowed_authentication_methods, allowed_email_domains, session, ip_allowlist, break_glass_user_id, auto_join } =
    policy;
  return { allowed_authentication_methods, allowed_email_domains, session, ip_allowlist, break_glass_user_id, auto_join };
}

/** Text of an element with its whitespace folded. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** On /security: the status line and what the form holds. */
async function readSecurity(page) {
  return {
    status: await textOf(page.locator('[data-testid=mfa-status]')),
    requireMfa: await page.getByRole('checkbox', { name: 'Require two-step verification' }).isChecked(),
    graceDays: await page.locator('#grace_days').inputValue(),
    enforceNow: await page.getByRole('checkbox', { name: 'End the sessions this rules out now' }).isChecked(),
  };
}

/**
 * On /security: the preview's summary and the members it names, as
 * [[email, reasons], …] sorted by email; undefined when there is no preview.
 */
async function readPreview(page) {
  const preview = page.locator('[data-testid=preview]');
  if ((await preview.count()) === 0) return undefined;
  const members = await preview.locator('li').evaluateAll((items) =>
    items.map((li) => {
      const email = li.querySelector('strong').innerText.trim();
      const text = li.innerText.replace(/\s+/g, ' ').trim();
      return [email, text.startsWith(`${email} — `) ? text.slice(email.length + 3) : text];
    }),
  );
  return {
    summary: await textOf(preview.locator('p').first()),
    members: members.sort(([a], [b]) => a.localeCompare(b)),
  };
}

/** "Sign out" in the header (from /projects): back on Lighthouse's home page. */
async function signOut(page) {
  await page.goto(`${app.url}/projects`);
  await clickThrough(page, page.locator('header.top').getByRole('button', { name: 'Sign out' }));
  await expectLighthousePage(page, { path: '/', heading: 'Lighthouse' });
}

/**
 * On Portico's /mfa/setup: "Can’t scan it?" shows the key, which goes into an
 * authenticator; its first code, then the ten recovery codes and "Continue".
 * Returns the authenticator; the browser is then back in Lighthouse.
 */
async function setUpAuthenticator(page) {
  const qr = page.locator('#totp-qr');
  assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/, 'a QR code');
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code shows');
  const key = page.locator('#totp-secret');
  if (!(await key.isVisible())) await page.getByText('Can’t scan it?').click();
  const phone = authenticator((await key.textContent()).replace(/\s+/g, ''));
  await page.locator('#code').fill(await phone.next());
  await submitForm(page, '#code');
  await expectHostedPage(page, { path: '/mfa/setup', heading: 'Save your recovery codes' });
  assert.equal(await page.locator('#recovery-codes li code').count(), 10, 'ten recovery codes');
  await clickThrough(page, page.locator('#recovery-continue'));
  return phone;
}

describe('Lighthouse /security as admin', () => {
  test('require two-step verification: a preview saves nothing; a 7-day grace ("Not now"), then enforced now; set up at the next sign-in', async () => {
    const admin = people.initech_admin;
    const member = people.initech_member;
    const reader = people.initech_read_only;
    const everyone = [admin, member, reader].map((p) => p.email).sort();
    // A rule set through the API beforehand: saving on /security must keep it.
    await api('PUT', `/organizations/${initech.id}/policy`, { session: { idle_timeout_seconds: 3600 } });
    const before = await getPolicy(initech.id);
    assert.equal(before.session.idle_timeout_seconds, 3600);
    assert.equal(before.mfa.required, false);

    const page = await newPage();
    const memberPage = await newPage();
    const readerPage = await newPage();
    try {
      // ---- 1. the admin opens Security; member and read_only cannot ------------------
      await signIn(page, admin.email);
      const header = await readHeader(page);
      assert.equal(header.organization, 'Initech');
      assert.deepEqual(header.nav, ['Projects', 'Members', 'Settings', 'Security', 'Billing']);
      await clickThrough(page, page.locator('header.top nav').getByRole('link', { name: 'Security', exact: true }));
      await expectLighthousePage(page, { path: '/security', heading: 'Security' });
      assert.deepEqual((await readHeader(page)).current, ['Security']);
      assert.equal(
        await textOf(page.locator('main p.lead')),
        'How people sign in to Initech. Portico enforces these rules at every sign-in, organization switch and refresh.',
      );
      assert.deepEqual(await readSecurity(page), { status: MFA_OFF, requireMfa: false, graceDays: '7', enforceNow: false });
      assert.equal(await readPreview(page), undefined, 'no preview yet');

      for (const [person, personPage, role] of [
        [member, memberPage, 'Member'],
        [reader, readerPage, 'Read only'],
      ]) {
        await signIn(personPage, person.email);
        const theirs = await readHeader(personPage);
        assert.equal(theirs.organization, 'Initech');
        assert.equal(theirs.role, role);
        assert.ok(!theirs.nav.includes('Security'), `no Security link for ${role}: ${theirs.nav}`);
        assert.equal(await personPage.locator('a[href="/security"]').count(), 0);
        await expectForbidden(personPage, await personPage.goto(`${app.url}/security`), 'settings:manage');
        // The form's POST, made from the page anyway: refused, nothing saved.
        const posted = await fetchFromPage(personPage, '/security', {
          method: 'POST',
          form: { require_mfa: 'on', grace_days: '0', enforce_now: 'on', action: 'save' },
        });
        assert.equal(posted.status, 403);
        assert.match(posted.text, /does not include “Manage organization settings”/);
        await signOut(personPage);
      }
      assert.equal((await getPolicy(initech.id)).mfa.required, false, 'the refused posts changed nothing');

      // ---- 2. require it with a 7-day grace: the preview ---------------------------
      await page.getByRole('checkbox', { name: 'Require two-step verification' }).check();
      await page.locator('#grace_days').fill('7');
      await clickThrough(page, page.locator('button[name=action][value=preview]'));
      await expectLighthousePage(page, { path: '/security', heading: 'Security' });
      assert.equal(await page.locator('main p.notice').count(), 0, 'no "saved" notice');
      const preview = await readPreview(page);
      assert.equal(preview.summary, '3 of 3 members would be affected. Nothing is saved yet.');
      assert.deepEqual(
        preview.members.map(([email]) => email),
        everyone,
        'every member is named: nobody has a second factor yet',
      );
      const sevenDays = 7 * 24 * 3600 * 1000;
      for (const [email, reasons] of preview.members) {
        const [, until] = MFA_FINDING_GRACE.exec(reasons) ?? [];
        assert.ok(until, `${email}: ${reasons}`);
        assert.equal(until, new Date(Date.now() + sevenDays).toISOString().slice(0, 10), `the grace ends in 7 days: ${until}`);
      }
      assert.deepEqual(
        await readSecurity(page),
        { status: MFA_OFF, requireMfa: true, graceDays: '7', enforceNow: false },
        'the status is still "Off"; the form keeps what was asked',
      );
      await screenshot(page, 'lighthouse-security');
      const previewed = await getPolicy(initech.id);
      assert.equal(previewed.mfa.required, false, 'a preview saves nothing');
      assert.deepEqual(otherRules(previewed), otherRules(before));

      // ---- 3. save ------------------------------------------------------------------
      await clickThrough(page, page.locator('button[name=action][value=save]'));
      await expectLighthousePage(page, { path: '/security', heading: 'Security' });
      assert.equal(new URL(page.url()).search, '?saved=1');
      assert.equal(await noticeText(page), 'Security settings saved.');
      const saved = await getPolicy(initech.id);
      assert.equal(saved.mfa.required, true);
      const enforcedFrom = Date.parse(saved.mfa.enforced_from);
      assert.ok(Math.abs(enforcedFrom - (Date.now() + sevenDays)) < 10 * 60 * 1000, `from in 7 days: ${saved.mfa.enforced_from}`);
      const deadline = saved.mfa.enforced_from.slice(0, 10);
      assert.deepEqual(await readSecurity(page), {
        status: mfaRequiredFrom(deadline),
        requireMfa: true,
        graceDays: '7',
        enforceNow: false,
      });
      assert.equal(await readPreview(page), undefined);
      assert.deepEqual(otherRules(saved), otherRules(before), 'the idle timeout set through the API is kept');

      // ---- 4. the member signs in: offered the set-up, "Not now" -------------------
      const earlier = new Set(await activeSessions(member.user.id));
      await enterPassword(memberPage, member.email);
      await expectHostedPage(memberPage, { path: '/mfa/soon', heading: 'Two-step verification is coming' });
      assert.equal(
        await textOf(memberPage.locator('p.lead')),
        `Initech will require two-step verification to sign in from ${deadline}.`,
      );
      assert.equal(await memberPage.locator('#grace-set-up').getAttribute('href'), '/mfa/setup');
      await clickThrough(memberPage, memberPage.locator('#grace-later'));
      await expectLighthousePage(memberPage, { path: '/projects', heading: 'Projects' });
      assert.equal((await readHeader(memberPage)).organization, 'Initech');
      const [graceSession] = (await activeSessions(member.user.id)).filter((id) => !earlier.has(id));
      assert.ok(graceSession, 'signed in without a second factor');
      const adminSessions = await activeSessions(admin.user.id);
      assert.equal(adminSessions.length, 1, 'the admin has one session');

      // ---- 5. grace 0, "End the sessions this rules out now" ------------------------
      await page.locator('#grace_days').fill('0');
      await page.getByRole('checkbox', { name: 'End the sessions this rules out now' }).check();
      assert.equal(await page.getByRole('checkbox', { name: 'Require two-step verification' }).isChecked(), true);
      await clickThrough(page, page.locator('button[name=action][value=save]'));
      await expectLighthousePage(page, { path: '/security', heading: 'Security' });
      assert.equal(await noticeText(page), 'Security settings saved.');
      // The admin's page still loads: Lighthouse holds an access token that has not expired.
      assert.equal((await readSecurity(page)).status, MFA_REQUIRED);
      const enforced = await getPolicy(initech.id);
      assert.deepEqual(enforced.mfa, { required: true, enforced_from: null }, 'no grace left');
      assert.deepEqual(otherRules(enforced), otherRules(before), 'the idle timeout is still kept');
      assert.equal(await sessionStatus(member.user.id, graceSession), 'revoked', "the member's session ended");
      // The admin has no second factor either: their own session ended too.
      assert.equal(await sessionStatus(admin.user.id, adminSessions[0]), 'revoked', "the admin's session ended");
      for (const person of [admin, member, reader]) {
        assert.deepEqual(await activeSessions(person.user.id), [], `no live session left for ${person.email}`);
      }

      // What the member's browser shows meanwhile: Lighthouse checks the access
      // token it holds, which stays valid until it expires (5 minutes); only
      // the refresh after that is refused (its cookie layer then clears the
      // cookie and the next page sends them home). So the API is the witness
      // here, and the member's next visit starts in a new browser.

      // ---- 6. the member signs in again: set-up, recovery codes, back in Lighthouse --
      const memberAgain = await newPage();
      try {
        const known = new Set((await listSessions(member.user.id)).map((s) => s.id));
        await enterPassword(memberAgain, member.email);
        await expectHostedPage(memberAgain, { path: '/mfa/setup', heading: 'Set up two-step verification' });
        assert.equal(
          await textOf(memberAgain.locator('p.lead')),
          'Your previous session in Initech was ended: it now requires two-step verification.',
        );
        await setUpAuthenticator(memberAgain);
        await expectLighthousePage(memberAgain, { path: '/projects', heading: 'Projects' });
        const theirs = await readHeader(memberAgain);
        assert.equal(theirs.organization, 'Initech');
        assert.equal(theirs.role, 'Member');
        assert.equal(theirs.user, member.email);
        const factors = (await api('GET', `/user_management/users/${member.user.id}/auth_factors`)).data;
        assert.deepEqual(factors.map((f) => f.type), ['totp'], 'one authenticator');
        const fresh = (await activeSessions(member.user.id)).filter((id) => !known.has(id));
        assert.equal(fresh.length, 1, 'a new session');
      } finally {
        await memberAgain.context().close();
      }

      // ---- the admin signs in again (set-up too); the preview names only read_only ----
      const adminAgain = await newPage();
      try {
        await enterPassword(adminAgain, admin.email);
        await expectHostedPage(adminAgain, { path: '/mfa/setup', heading: 'Set up two-step verification' });
        assert.equal(
          await textOf(adminAgain.locator('p.lead')),
          'Your previous session in Initech was ended: it now requires two-step verification.',
        );
        await setUpAuthenticator(adminAgain);
        await expectLighthousePage(adminAgain, { path: '/projects', heading: 'Projects' });
        await clickThrough(adminAgain, adminAgain.locator('header.top nav').getByRole('link', { name: 'Security', exact: true }));
        await expectLighthousePage(adminAgain, { path: '/security', heading: 'Security' });
        const enforced = await readSecurity(adminAgain);
        assert.equal(enforced.status, MFA_REQUIRED);
        assert.equal(enforced.graceDays, '0', 'once enforced, no grace is left to offer');
        await adminAgain.getByRole('checkbox', { name: 'End the sessions this rules out now' }).check();
        await clickThrough(adminAgain, adminAgain.locator('button[name=action][value=preview]'));
        assert.deepEqual(await readPreview(adminAgain), {
          summary: '1 of 3 members would be affected. 0 signed-in sessions would end now. Nothing is saved yet.',
          members: [[reader.email, MFA_FINDING_NOW]],
        });
        assert.equal((await readSecurity(adminAgain)).enforceNow, true, 'the preview keeps "end the sessions" ticked');
        assert.deepEqual((await getPolicy(initech.id)).mfa, { required: true, enforced_from: null }, 'still nothing saved');
      } finally {
        await adminAgain.context().close();
      }
    } finally {
      await page.context().close();
      await memberPage.context().close();
      await readerPage.context().close();
    }
  });
});
