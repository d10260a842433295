// Organization memberships: create (role_slug / role_slugs), get, list
// (by organization, by user, statuses), update roles, deactivate,
// reactivate, delete.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  uniqueDomain,
  idPattern,
  assertTimestamps,
  expectSdkError,
  sortedSlugs,
} from './lib/harness.mjs';

for (const sdk of SDKS) {
  describe(`organization memberships (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    let org;
    let alice;
    let bob;
    let m1; // alice, single role
    let m2; // bob, two roles

    before(async () => {
      org = await workos.organizations.createOrganization({
        name: `Memberships ${uid()}`,
        domainData: [{ domain: uniqueDomain('members'), state: 'verified' }],
      });
      alice = await workos.userManagement.createUser({ email: uniqueEmail('alice') });
      bob = await workos.userManagement.createUser({ email: uniqueEmail('bob') });
    });

    test('createOrganizationMembership with roleSlug', async () => {
      m1 = await workos.userManagement.createOrganizationMembership({
        organizationId: org.id,
        userId: alice.id,
        roleSlug: 'admin',
      });
      assert.equal(m1.object, 'organization_membership');
      assert.match(m1.id, idPattern('om'));
      assert.equal(m1.userId, alice.id);
      assert.equal(m1.organizationId, org.id);
      assert.equal(m1.organizationName, org.name);
      assert.equal(m1.status, 'active');
      assert.equal(m1.directoryManaged, false);
      assert.deepEqual(m1.role, { slug: 'admin' });
      assert.deepEqual(m1.roles, [{ slug: 'admin' }]);
      assertTimestamps(m1, 'membership');
    });

    test('createOrganizationMembership with roleSlugs', async () => {
      m2 = await workos.userManagement.createOrganizationMembership({
        organizationId: org.id,
        userId: bob.id,
        roleSlugs: ['admin', 'member'],
      });
      assert.equal(m2.status, 'active');
      assert.deepEqual(sortedSlugs(m2.roles), ['admin', 'member']);
      assert.ok(['admin', 'member'].includes(m2.role.slug), `primary role ${m2.role.slug}`);
      assert.equal(m2.role.slug, m2.roles[0].slug, 'role is the first of roles');
    });

    test('getOrganizationMembership', async () => {
      assert.ok(m1, 'depends on create');
      const got = await workos.userManagement.getOrganizationMembership(m1.id);
      assert.equal(got.id, m1.id);
      assert.equal(got.userId, alice.id);
      assert.deepEqual(got.role, { slug: 'admin' });
      assert.deepEqual(got.roles, [{ slug: 'admin' }]);
    });

    test('listOrganizationMemberships by organizationId', async () => {
      assert.ok(m1 && m2, 'depends on create');
      const list = await workos.userManagement.listOrganizationMemberships({ organizationId: org.id });
      assert.equal(list.object, 'list');
      assert.deepEqual(list.data.map((m) => m.id).sort(), [m1.id, m2.id].sort());
    });

    test('listOrganizationMemberships by userId', async () => {
      assert.ok(m1, 'depends on create');
      const list = await workos.userManagement.listOrganizationMemberships({ userId: alice.id });
      assert.deepEqual(list.data.map((m) => m.id), [m1.id]);
      assert.equal(list.data[0].organizationId, org.id);
    });

    test('updateOrganizationMembership with roleSlug and roleSlugs', async () => {
      assert.ok(m1, 'depends on create');
      const single = await workos.userManagement.updateOrganizationMembership(m1.id, { roleSlug: 'member' });
      assert.equal(single.id, m1.id);
      assert.deepEqual(single.role, { slug: 'member' });
      assert.deepEqual(single.roles, [{ slug: 'member' }]);

      const multi = await workos.userManagement.updateOrganizationMembership(m1.id, {
        roleSlugs: ['member', 'admin'],
      });
      assert.deepEqual(sortedSlugs(multi.roles), ['admin', 'member']);
      assert.equal(multi.role.slug, multi.roles[0].slug);
    });

    test('deactivateOrganizationMembership sets status inactive', async () => {
      assert.ok(m1, 'depends on create');
      const deactivated = await workos.userManagement.deactivateOrganizationMembership(m1.id);
      assert.equal(deactivated.id, m1.id);
      assert.equal(deactivated.status, 'inactive');
    });

    test('listOrganizationMemberships honours statuses', async () => {
      assert.ok(m1 && m2, 'depends on create');
      const activeOnly = await workos.userManagement.listOrganizationMemberships({ organizationId: org.id });
      assert.deepEqual(activeOnly.data.map((m) => m.id), [m2.id], 'default lists only active memberships');

      const inactive = await workos.userManagement.listOrganizationMemberships({
        organizationId: org.id,
        statuses: ['inactive'],
      });
      assert.deepEqual(inactive.data.map((m) => m.id), [m1.id]);
      assert.equal(inactive.data[0].status, 'inactive');

      const both = await workos.userManagement.listOrganizationMemberships({
        organizationId: org.id,
        statuses: ['active', 'inactive'],
      });
      assert.deepEqual(both.data.map((m) => m.id).sort(), [m1.id, m2.id].sort());
    });

    test('reactivateOrganizationMembership keeps the roles', async () => {
      assert.ok(m1, 'depends on create');
      const reactivated = await workos.userManagement.reactivateOrganizationMembership(m1.id);
      assert.equal(reactivated.status, 'active');
      assert.deepEqual(sortedSlugs(reactivated.roles), ['admin', 'member']);
    });

    test('deleteOrganizationMembership', async () => {
      assert.ok(m2, 'depends on create');
      await workos.userManagement.deleteOrganizationMembership(m2.id);
      await expectSdkError(
        sdk,
        workos.userManagement.getOrganizationMembership(m2.id),
        'NotFoundException',
        404,
      );
      const list = await workos.userManagement.listOrganizationMemberships({
        organizationId: org.id,
        statuses: ['active', 'inactive', 'pending'],
      });
      assert.deepEqual(list.data.map((m) => m.id), [m1.id]);
    });
  });
}
