// Roles and permissions through `workos.authorization.*`.

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
  expectClientError,
} from './lib/harness.mjs';

function assertRole(role, type, what = 'role') {
  assert.equal(role.object, 'role', `${what}.object`);
  assert.match(role.id, idPattern('role'), `${what}.id`);
  assert.equal(typeof role.slug, 'string', `${what}.slug`);
  assert.equal(typeof role.name, 'string', `${what}.name`);
  assert.ok(role.description === null || typeof role.description === 'string', `${what}.description`);
  assert.equal(role.type, type, `${what}.type`);
  assert.equal(typeof role.resourceTypeSlug, 'string', `${what}.resource_type_slug`);
  assert.ok(Array.isArray(role.permissions), `${what}.permissions is an array`);
  assertTimestamps(role, what);
}

function assertPermission(p, what = 'permission') {
  assert.equal(p.object, 'permission', `${what}.object`);
  assert.match(p.id, idPattern('perm'), `${what}.id`);
  assert.equal(typeof p.slug, 'string');
  assert.equal(typeof p.name, 'string');
  assert.ok(p.description === null || typeof p.description === 'string', `${what}.description`);
  assert.equal(typeof p.resourceTypeSlug, 'string', `${what}.resource_type_slug`);
  assert.equal(p.system, false, `${what}.system`);
  assertTimestamps(p, what);
}

for (const sdk of SDKS) {
  describe(`authorization (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const authz = workos.authorization;
    const u = uid(3);
    // Slugs with ':' exercise the SDK's path encoding (':' is kept literal).
    const permRead = `compat-${u}:read`;
    const permWrite = `compat-${u}:write`;
    const permAudit = `compat-${u}:audit`;
    const permDoomed = `compat-${u}:doomed`;
    const envRole = `compat-env-${u}`;
    const orgRole = `org-compat-${u}`;
    let org;

    before(async () => {
      org = await workos.organizations.createOrganization({
        name: `Roles ${u}`,
        domainData: [{ domain: uniqueDomain('roles'), state: 'verified' }],
      });
    });

    // ---- permissions -------------------------------------------------------

    test('createPermission', async () => {
      const p = await authz.createPermission({ slug: permRead, name: 'Read things', description: 'Can read' });
      assertPermission(p);
      assert.equal(p.slug, permRead);
      assert.equal(p.name, 'Read things');
      assert.equal(p.description, 'Can read');
      for (const slug of [permWrite, permAudit, permDoomed]) {
        const extra = await authz.createPermission({ slug, name: slug });
        assert.equal(extra.slug, slug);
      }
    });

    test('getPermission', async () => {
      const p = await authz.getPermission(permRead);
      assertPermission(p);
      assert.equal(p.slug, permRead);
    });

    test('updatePermission', async () => {
      const p = await authz.updatePermission(permRead, { name: 'Read everything', description: 'Updated' });
      assert.equal(p.slug, permRead);
      assert.equal(p.name, 'Read everything');
      assert.equal(p.description, 'Updated');
    });

    test('listPermissions (auto-paginated) includes the new permissions', async () => {
      const page = await authz.listPermissions();
      assert.equal(page.object, 'list');
      const all = await page.autoPagination();
      const slugs = new Set(all.map((p) => p.slug));
      for (const slug of [permRead, permWrite, permAudit, permDoomed]) {
        assert.ok(slugs.has(slug), `listPermissions is missing ${slug}`);
      }
      for (const p of all.filter((p) => p.slug.startsWith(`compat-${u}`))) assertPermission(p);
    });

    test('deletePermission', async () => {
      await authz.deletePermission(permDoomed);
      await expectSdkError(sdk, authz.getPermission(permDoomed), 'NotFoundException', 404);
    });

    // ---- environment roles -------------------------------------------------

    test('listEnvironmentRoles includes admin and member', async () => {
      const list = await authz.listEnvironmentRoles();
      assert.equal(list.object, 'list');
      const bySlug = Object.fromEntries(list.data.map((r) => [r.slug, r]));
      assert.ok(bySlug.admin, 'admin role exists');
      assert.ok(bySlug.member, 'member role exists');
      for (const r of list.data) assertRole(r, 'EnvironmentRole', `role ${r.slug}`);
    });

    test('createEnvironmentRole', async () => {
      const role = await authz.createEnvironmentRole({ slug: envRole, name: 'Compat env role', description: 'first' });
      assertRole(role, 'EnvironmentRole');
      assert.equal(role.slug, envRole);
      assert.equal(role.name, 'Compat env role');
      assert.equal(role.description, 'first');
      assert.deepEqual(role.permissions, []);
    });

    test('getEnvironmentRole', async () => {
      const role = await authz.getEnvironmentRole(envRole);
      assertRole(role, 'EnvironmentRole');
      assert.equal(role.slug, envRole);
      const admin = await authz.getEnvironmentRole('admin');
      assert.equal(admin.slug, 'admin');
    });

    test('updateEnvironmentRole', async () => {
      const role = await authz.updateEnvironmentRole(envRole, { name: 'Compat env role 2', description: 'second' });
      assert.equal(role.slug, envRole);
      assert.equal(role.name, 'Compat env role 2');
      assert.equal(role.description, 'second');
    });

    test('setEnvironmentRolePermissions / addEnvironmentRolePermission', async () => {
      const set = await authz.setEnvironmentRolePermissions(envRole, { permissions: [permRead, permWrite] });
      assertRole(set, 'EnvironmentRole');
      assert.deepEqual([...set.permissions].sort(), [permRead, permWrite].sort());

      const added = await authz.addEnvironmentRolePermission(envRole, { permissionSlug: permAudit });
      assert.deepEqual([...added.permissions].sort(), [permAudit, permRead, permWrite].sort());

      const again = await authz.addEnvironmentRolePermission(envRole, { permissionSlug: permAudit });
      assert.equal(again.permissions.length, 3, 'adding an existing permission is a no-op');

      const replaced = await authz.setEnvironmentRolePermissions(envRole, { permissions: [permWrite] });
      assert.deepEqual(replaced.permissions, [permWrite]);

      const fetched = await authz.getEnvironmentRole(envRole);
      assert.deepEqual(fetched.permissions, [permWrite]);
    });

    // ---- organization roles ------------------------------------------------

    test('createOrganizationRole', async () => {
      const role = await authz.createOrganizationRole(org.id, {
        slug: orgRole,
        name: 'Compat org role',
        description: 'org scoped',
      });
      assertRole(role, 'OrganizationRole');
      assert.equal(role.slug, orgRole);
      assert.equal(role.name, 'Compat org role');
      assert.deepEqual(role.permissions, []);
    });

    test('listOrganizationRoles lists environment and organization roles', async () => {
      const list = await authz.listOrganizationRoles(org.id);
      assert.equal(list.object, 'list');
      const bySlug = Object.fromEntries(list.data.map((r) => [r.slug, r]));
      assert.ok(bySlug.admin, 'admin listed');
      assert.ok(bySlug.member, 'member listed');
      assert.ok(bySlug[orgRole], 'organization role listed');
      assert.equal(bySlug.admin.type, 'EnvironmentRole');
      assert.equal(bySlug[orgRole].type, 'OrganizationRole');
    });

    test('getOrganizationRole (organization and environment role)', async () => {
      const role = await authz.getOrganizationRole(org.id, orgRole);
      assertRole(role, 'OrganizationRole');
      assert.equal(role.slug, orgRole);
      const env = await authz.getOrganizationRole(org.id, 'member');
      assert.equal(env.slug, 'member');
      assert.equal(env.type, 'EnvironmentRole');
    });

    test('updateOrganizationRole', async () => {
      const role = await authz.updateOrganizationRole(org.id, orgRole, { name: 'Renamed org role', description: 'changed' });
      assert.equal(role.slug, orgRole);
      assert.equal(role.name, 'Renamed org role');
      assert.equal(role.description, 'changed');
    });

    test('set / add / remove organization role permissions', async () => {
      const set = await authz.setOrganizationRolePermissions(org.id, orgRole, { permissions: [permRead, permWrite] });
      assert.deepEqual([...set.permissions].sort(), [permRead, permWrite].sort());

      const added = await authz.addOrganizationRolePermission(org.id, orgRole, { permissionSlug: permAudit });
      assert.deepEqual([...added.permissions].sort(), [permAudit, permRead, permWrite].sort());

      await authz.removeOrganizationRolePermission(org.id, orgRole, { permissionSlug: permRead });
      const fetched = await authz.getOrganizationRole(org.id, orgRole);
      assert.deepEqual([...fetched.permissions].sort(), [permAudit, permWrite].sort());
    });

    test('deleteOrganizationRole fails while the role is assigned, then succeeds', async (t) => {
      const user = await workos.userManagement.createUser({ email: uniqueEmail('roleholder') });
      const membership = await workos.userManagement.createOrganizationMembership({
        organizationId: org.id,
        userId: user.id,
        roleSlug: orgRole,
      });
      assert.deepEqual(membership.role, { slug: orgRole });

      const { err, className } = await expectClientError(sdk, authz.deleteOrganizationRole(org.id, orgRole));
      t.diagnostic(`delete of an assigned role -> ${className} (HTTP ${err.status})`);
      const still = await authz.getOrganizationRole(org.id, orgRole);
      assert.equal(still.slug, orgRole, 'role must survive the refused delete');

      await workos.userManagement.updateOrganizationMembership(membership.id, { roleSlug: 'member' });
      await authz.deleteOrganizationRole(org.id, orgRole);
      await expectSdkError(sdk, authz.getOrganizationRole(org.id, orgRole), 'NotFoundException', 404);
    });
  });
}
