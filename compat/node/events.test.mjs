// Events API: the calls made here must show up in `GET /events`.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  uniqueDomain,
  idPattern,
  ISO_MS,
  eventually,
} from './lib/harness.mjs';

const EVENT_NAMES = [
  'user.created',
  'user.updated',
  'user.deleted',
  'organization.created',
  'organization.updated',
  'organization_membership.created',
];

/** Follow `list_metadata.after` by hand (listEvents is not auto-paginated). */
async function listAllEvents(workos, options, maxPages = 50) {
  const all = [];
  let after;
  for (let i = 0; i < maxPages; i++) {
    const page = await workos.events.listEvents({ ...options, limit: 100, ...(after ? { after } : {}) });
    assert.equal(page.object, 'list');
    all.push(...page.data);
    after = page.listMetadata?.after;
    if (!after || page.data.length === 0) break;
  }
  return all;
}

for (const sdk of SDKS) {
  describe(`events (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    let rangeStart;
    let user;
    let org;
    let membership;

    before(async () => {
      rangeStart = new Date(Date.now() - 60_000).toISOString();
      org = await workos.organizations.createOrganization({
        name: `Events ${uid()}`,
        domainData: [{ domain: uniqueDomain('events'), state: 'verified' }],
      });
      await workos.organizations.updateOrganization({ organization: org.id, name: `${org.name} (renamed)` });
      user = await workos.userManagement.createUser({ email: uniqueEmail('events'), firstName: 'Eve' });
      await workos.userManagement.updateUser({ userId: user.id, lastName: 'Nts' });
      membership = await workos.userManagement.createOrganizationMembership({
        organizationId: org.id,
        userId: user.id,
        roleSlug: 'member',
      });
      await workos.userManagement.deleteUser(user.id);
    });

    test('listEvents returns the events of the calls above', async () => {
      const events = await eventually(async () => {
        const all = await listAllEvents(workos, { events: EVENT_NAMES, rangeStart });
        const mine = all.filter(
          (e) => e.data?.id === user.id || e.data?.id === org.id || e.data?.id === membership.id,
        );
        const names = new Set(mine.map((e) => `${e.event}:${e.data.id}`));
        for (const expected of [
          `user.created:${user.id}`,
          `user.updated:${user.id}`,
          `user.deleted:${user.id}`,
          `organization.created:${org.id}`,
          `organization.updated:${org.id}`,
          `organization_membership.created:${membership.id}`,
        ]) {
          assert.ok(names.has(expected), `missing event ${expected}; saw ${[...names].join(', ')}`);
        }
        return { all, mine };
      });

      for (const e of events.all) {
        assert.ok(EVENT_NAMES.includes(e.event), `filter leaked event ${e.event}`);
        assert.match(e.id, idPattern('event'));
        assert.match(e.createdAt, ISO_MS);
        assert.ok(e.createdAt >= rangeStart, `event ${e.id} at ${e.createdAt} is before range_start ${rangeStart}`);
      }
      const created = events.mine.find((e) => e.event === 'user.created');
      assert.equal(created.data.email, user.email);
      assert.equal(created.data.object, 'user');
      const om = events.mine.find((e) => e.event === 'organization_membership.created');
      assert.equal(om.data.organizationId, org.id);
      assert.equal(om.data.userId, user.id);
    });

    test('listEvents filters by organizationId', async () => {
      const events = await eventually(async () => {
        const all = await listAllEvents(workos, {
          events: ['organization_membership.created'],
          rangeStart,
          organizationId: org.id,
        });
        assert.ok(all.some((e) => e.data.id === membership.id), 'membership event present');
        return all;
      });
      for (const e of events) {
        assert.equal(e.event, 'organization_membership.created');
        assert.equal(e.data.organizationId, org.id, `event ${e.id} belongs to another organization`);
      }
    });
  });
}
