// Permission checks through `workos.authorization.check` (both Node majors
// have it): the membership's roles answer for its own organization (no
// resource, its id, or its external id with resource_type_slug
// "organization"); another organization answers false; role and membership
// changes apply to the very next check; the refusals map onto the SDK's
// exception classes. Also the batch form, `POST …/checks` (a Portico
// extension without an SDK method), over plain HTTP.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SDKS, client, uid, uniqueEmail, expectSdkError, rawRequest } from './lib/harness.mjs';

const MISSING_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_MEMBERSHIP = 'om_01HZZZZZZZZZZZZZZZZZZZZZZZ';

/** The first field a 422 body names. */
function firstField(res) {
  assert.equal(res.status, 422, `expected 422, got ${res.status}: ${res.text}`);
  assert.ok(Array.isArray(res.json?.errors) && res.json.errors.length > 0, `errors in ${res.text}`);
  return res.json.errors[0].field;
}

for (const sdk of SDKS) {
  describe(`authorization check (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk, { maxRetries: 0 });
    const authz = workos.authorization;
    const um = workos.userManagement;
    const u = uid(3);
    // Own slugs and roles, so that no concurrent test file changes them.
    const permRead = `compat-chk-${u}:read`;
    const permWrite = `compat-chk-${u}:write`;
    const permAudit = `compat-chk-${u}:audit`;
    const envRole = `compat-chk-env-${u}`;
    const orgRole = `org-compat-chk-${u}`;
    let orgA; // the membership's organization
    let orgB; // another organization
    let membership; // in orgA, role envRole (read)
    let dual; // in orgA, roles envRole + orgRole

    /** `check` for `membership`, requiring exactly `{ authorized }` back. */
    async function authorized(permissionSlug, { om = membership.id, ...resource } = {}) {
      const answer = await authz.check({ organizationMembershipId: om, permissionSlug, ...resource });
      assert.deepEqual(Object.keys(answer), ['authorized'], `the WorkOS shape: ${JSON.stringify(answer)}`);
      assert.equal(typeof answer.authorized, 'boolean');
      return answer.authorized;
    }

    before(async () => {
      for (const slug of [permRead, permWrite, permAudit]) {
        await authz.createPermission({ slug, name: slug });
      }
      await authz.createEnvironmentRole({ slug: envRole, name: `Check ${u}` });
      await authz.setEnvironmentRolePermissions(envRole, { permissions: [permRead] });
      orgA = await workos.organizations.createOrganization({ name: `Check A ${u}`, externalId: `chk-a-${u}` });
      orgB = await workos.organizations.createOrganization({ name: `Check B ${u}`, externalId: `chk-b-${u}` });
      await authz.createOrganizationRole(orgA.id, { slug: orgRole, name: `Check org ${u}` });
      await authz.setOrganizationRolePermissions(orgA.id, orgRole, { permissions: [permAudit] });
      const user = await um.createUser({ email: uniqueEmail('check') });
      membership = await um.createOrganizationMembership({ organizationId: orgA.id, userId: user.id, roleSlug: envRole });
      const other = await um.createUser({ email: uniqueEmail('check-dual') });
      dual = await um.createOrganizationMembership({
        organizationId: orgA.id,
        userId: other.id,
        roleSlugs: [envRole, orgRole],
      });
    });

    test('check without a resource: the membership roles answer true and false', async () => {
      assert.equal(await authorized(permRead), true, 'the role grants read');
      assert.equal(await authorized(permWrite), false, 'the role does not grant write');
      assert.equal(await authorized(permAudit), false, 'audit is on a role this membership lacks');
    });

    test('an unknown permission slug -> authorized false', async () => {
      assert.equal(await authorized(`compat-chk-${u}:no-such-permission`), false);
    });

    test('several roles: each role grants its permissions', async () => {
      assert.equal(await authorized(permRead, { om: dual.id }), true, 'from the environment role');
      assert.equal(await authorized(permAudit, { om: dual.id }), true, 'from the organization role');
      assert.equal(await authorized(permWrite, { om: dual.id }), false);
    });

    test('resourceId: the own organization answers from the roles, another one false', async () => {
      assert.equal(await authorized(permRead, { resourceId: orgA.id }), true);
      assert.equal(await authorized(permWrite, { resourceId: orgA.id }), false);
      assert.equal(await authorized(permRead, { resourceId: orgB.id }), false, 'no roles in another organization');
    });

    test("resourceExternalId with resourceTypeSlug 'organization'", async () => {
      const own = { resourceExternalId: orgA.externalId, resourceTypeSlug: 'organization' };
      const other = { resourceExternalId: orgB.externalId, resourceTypeSlug: 'organization' };
      assert.equal(await authorized(permRead, own), true);
      assert.equal(await authorized(permWrite, own), false);
      assert.equal(await authorized(permRead, other), false);
    });

    test('a permission added to / removed from the role applies to the very next check', async () => {
      assert.equal(await authorized(permWrite), false);
      await authz.setEnvironmentRolePermissions(envRole, { permissions: [permRead, permWrite] });
      assert.equal(await authorized(permWrite), true, 'set on the environment role');
      await authz.setEnvironmentRolePermissions(envRole, { permissions: [permRead] });
      assert.equal(await authorized(permWrite), false, 'removed from the environment role');

      assert.equal(await authorized(permRead, { om: dual.id }), true);
      await authz.addOrganizationRolePermission(orgA.id, orgRole, { permissionSlug: permWrite });
      assert.equal(await authorized(permWrite, { om: dual.id }), true, 'added to the organization role');
      await authz.removeOrganizationRolePermission(orgA.id, orgRole, { permissionSlug: permWrite });
      assert.equal(await authorized(permWrite, { om: dual.id }), false, 'removed from the organization role');
    });

    test('a deleted permission is no longer held, and re-creating its slug does not grant it back', async () => {
      const permDoomed = `compat-chk-${u}:doomed`;
      await authz.createPermission({ slug: permDoomed, name: permDoomed });
      await authz.setEnvironmentRolePermissions(envRole, { permissions: [permRead, permDoomed] });
      assert.equal(await authorized(permDoomed), true);
      await authz.deletePermission(permDoomed);
      assert.equal(await authorized(permDoomed), false, 'deleted');
      await authz.createPermission({ slug: permDoomed, name: permDoomed });
      assert.equal(await authorized(permDoomed), false, 'a new permission with the old slug is not on the role');
      assert.equal(await authorized(permRead), true, 'the other permissions of the role stay');
    });

    test('a membership role change applies to the very next check', async () => {
      const other = await um.createUser({ email: uniqueEmail('check-role') });
      const m = await um.createOrganizationMembership({ organizationId: orgA.id, userId: other.id, roleSlug: envRole });
      assert.equal(await authorized(permAudit, { om: m.id }), false);
      await um.updateOrganizationMembership(m.id, { roleSlug: orgRole });
      assert.equal(await authorized(permAudit, { om: m.id }), true, 'the new role grants audit');
      assert.equal(await authorized(permRead, { om: m.id }), false, 'the old role no longer grants read');
    });

    test('a deactivated membership holds nothing; reactivated, it does again', async () => {
      const other = await um.createUser({ email: uniqueEmail('check-inactive') });
      const m = await um.createOrganizationMembership({ organizationId: orgA.id, userId: other.id, roleSlug: envRole });
      assert.equal(await authorized(permRead, { om: m.id }), true);
      const deactivated = await um.deactivateOrganizationMembership(m.id);
      assert.equal(deactivated.status, 'inactive');
      assert.equal(await authorized(permRead, { om: m.id }), false);
      assert.equal(await authorized(permRead, { om: m.id, resourceId: orgA.id }), false);
      await um.reactivateOrganizationMembership(m.id);
      assert.equal(await authorized(permRead, { om: m.id }), true);
    });

    // ---- refusals -------------------------------------------------------------

    test('an unknown membership -> NotFoundException', async () => {
      await expectSdkError(
        sdk,
        authz.check({ organizationMembershipId: MISSING_MEMBERSHIP, permissionSlug: permRead }),
        'NotFoundException',
        404,
      );
    });

    test('an unknown resource -> NotFoundException', async () => {
      await expectSdkError(
        sdk,
        authz.check({ organizationMembershipId: membership.id, permissionSlug: permRead, resourceId: MISSING_ORG }),
        'NotFoundException',
        404,
      );
      await expectSdkError(
        sdk,
        authz.check({
          organizationMembershipId: membership.id,
          permissionSlug: permRead,
          resourceExternalId: `no-such-${u}`,
          resourceTypeSlug: 'organization',
        }),
        'NotFoundException',
        404,
      );
    });

    test('a resource type other than organization -> UnprocessableEntityException', async () => {
      const options = {
        organizationMembershipId: membership.id,
        permissionSlug: permRead,
        resourceExternalId: orgA.externalId,
        resourceTypeSlug: 'document',
      };
      await expectSdkError(sdk, authz.check(options), 'UnprocessableEntityException', 422);
      const raw = await rawRequest('POST', `/authorization/organization_memberships/${membership.id}/check`, {
        body: { permission_slug: permRead, resource_external_id: orgA.externalId, resource_type_slug: 'document' },
      });
      assert.equal(firstField(raw), 'resource_type_slug');
    });

    test('no permission slug -> UnprocessableEntityException naming permission_slug', async () => {
      await expectSdkError(
        sdk,
        authz.check({ organizationMembershipId: membership.id }),
        'UnprocessableEntityException',
        422,
      );
      const raw = await rawRequest('POST', `/authorization/organization_memberships/${membership.id}/check`, {
        body: {},
      });
      assert.equal(firstField(raw), 'permission_slug');
    });

    // ---- batch (POST …/checks, no SDK method) ------------------------------------

    test('batch: one answer per permission, in the order asked', async () => {
      const unknown = `compat-chk-${u}:nope`;
      const path = `/authorization/organization_memberships/${membership.id}/checks`;
      const res = await rawRequest('POST', path, { body: { permission_slugs: [permWrite, permRead, unknown] } });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, {
        object: 'list',
        data: [
          { permission_slug: permWrite, authorized: false },
          { permission_slug: permRead, authorized: true },
          { permission_slug: unknown, authorized: false },
        ],
      });
      const own = await rawRequest('POST', path, {
        body: { permission_slugs: [permRead], resource_external_id: orgA.externalId, resource_type_slug: 'organization' },
      });
      assert.equal(own.status, 200, own.text);
      assert.deepEqual(own.json.data, [{ permission_slug: permRead, authorized: true }]);
      const other = await rawRequest('POST', path, { body: { permission_slugs: [permRead, permWrite], resource_id: orgB.id } });
      assert.equal(other.status, 200, other.text);
      assert.deepEqual(other.json.data.map((a) => a.authorized), [false, false], 'nothing in another organization');
    });

    test('batch: follows role changes like the single check', async () => {
      const path = `/authorization/organization_memberships/${dual.id}/checks`;
      const ask = async () => {
        const res = await rawRequest('POST', path, { body: { permission_slugs: [permRead, permWrite, permAudit] } });
        assert.equal(res.status, 200, res.text);
        return res.json.data.map((a) => a.authorized);
      };
      assert.deepEqual(await ask(), [true, false, true]);
      await authz.addOrganizationRolePermission(orgA.id, orgRole, { permissionSlug: permWrite });
      assert.deepEqual(await ask(), [true, true, true]);
      await authz.removeOrganizationRolePermission(orgA.id, orgRole, { permissionSlug: permWrite });
      assert.deepEqual(await ask(), [true, false, true]);
    });

    test('batch refusals: empty, more than 100, unknown membership / resource, other resource type', async () => {
      const path = `/authorization/organization_memberships/${membership.id}/checks`;
      const many = Array.from({ length: 101 }, (_, i) => `${permRead}-${i}`);
      for (const body of [{}, { permission_slugs: [] }, { permission_slugs: many }]) {
        const res = await rawRequest('POST', path, { body });
        assert.equal(firstField(res), 'permission_slugs', `${JSON.stringify(body).slice(0, 80)}: ${res.text}`);
      }
      const hundred = Array.from({ length: 100 }, (_, i) => (i === 99 ? permRead : `${permRead}-${i}`));
      const full = await rawRequest('POST', path, { body: { permission_slugs: hundred } });
      assert.equal(full.status, 200, '100 permissions are allowed');
      assert.equal(full.json.data.length, 100);
      assert.deepEqual(full.json.data[99], { permission_slug: permRead, authorized: true });

      const kind = await rawRequest('POST', path, {
        body: { permission_slugs: [permRead], resource_external_id: orgA.externalId, resource_type_slug: 'document' },
      });
      assert.equal(firstField(kind), 'resource_type_slug');
      const noResource = await rawRequest('POST', path, { body: { permission_slugs: [permRead], resource_id: MISSING_ORG } });
      assert.equal(noResource.status, 404, noResource.text);
      const noMembership = await rawRequest('POST', `/authorization/organization_memberships/${MISSING_MEMBERSHIP}/checks`, {
        body: { permission_slugs: [permRead] },
      });
      assert.equal(noMembership.status, 404, noMembership.text);
    });
  });
}
