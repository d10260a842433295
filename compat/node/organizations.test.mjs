// Organizations and organization domains.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueDomain,
  idPattern,
  assertTimestamps,
  expectSdkError,
} from './lib/harness.mjs';

function assertDomain(d, orgId, what = 'domain') {
  assert.equal(d.object, 'organization_domain', `${what}.object`);
  assert.match(d.id, idPattern('org_domain'), `${what}.id`);
  assert.equal(d.organizationId, orgId, `${what}.organizationId`);
  assert.ok(['verified', 'pending', 'failed', 'legacy_verified', 'unverified'].includes(d.state), `${what}.state = ${d.state}`);
  assert.ok(['dns', 'manual'].includes(d.verificationStrategy), `${what}.verificationStrategy = ${d.verificationStrategy}`);
  assertTimestamps(d, what);
}

for (const sdk of SDKS) {
  describe(`organizations (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const verifiedDomain = uniqueDomain('verified');
    const pendingDomain = uniqueDomain('pending');
    const externalId = `org-ext-${uid()}`;
    const name = `Acme ${uid()}`;
    let org;
    let extraDomain;

    test('createOrganization with domain_data, external_id and metadata', async () => {
      org = await workos.organizations.createOrganization({
        name,
        domainData: [
          { domain: verifiedDomain, state: 'verified' },
          { domain: pendingDomain, state: 'pending' },
        ],
        externalId,
        metadata: { tier: 'diamond' },
      });
      assert.equal(org.object, 'organization');
      assert.match(org.id, idPattern('org'));
      assert.equal(org.name, name);
      assert.equal(org.externalId, externalId);
      assert.deepEqual(org.metadata, { tier: 'diamond' });
      assert.equal(org.allowProfilesOutsideOrganization, false);
      assertTimestamps(org, 'organization');
      assert.equal(org.domains.length, 2);
      const byName = Object.fromEntries(org.domains.map((d) => [d.domain, d]));
      assert.ok(byName[verifiedDomain], 'verified domain present');
      assert.ok(byName[pendingDomain], 'pending domain present');
      assert.equal(byName[verifiedDomain].state, 'verified');
      assert.equal(byName[pendingDomain].state, 'pending');
      for (const d of org.domains) assertDomain(d, org.id);
    });

    test('getOrganization returns the organization', async () => {
      assert.ok(org, 'depends on createOrganization');
      const got = await workos.organizations.getOrganization(org.id);
      assert.equal(got.id, org.id);
      assert.equal(got.name, name);
      assert.equal(got.domains.length, 2);
      assert.deepEqual(got.metadata, { tier: 'diamond' });
    });

    test('getOrganizationByExternalId finds it', async () => {
      assert.ok(org, 'depends on createOrganization');
      const got = await workos.organizations.getOrganizationByExternalId(externalId);
      assert.equal(got.id, org.id);
    });

    test('listOrganizations filters by domains', async () => {
      assert.ok(org, 'depends on createOrganization');
      const list = await workos.organizations.listOrganizations({ domains: [verifiedDomain] });
      assert.equal(list.object, 'list');
      assert.deepEqual(list.data.map((o) => o.id), [org.id]);

      const other = await workos.organizations.createOrganization({
        name: `Other ${uid()}`,
        domainData: [{ domain: uniqueDomain('other'), state: 'verified' }],
      });
      // Two domains in one filter (sent comma-separated by the SDK).
      const both = await workos.organizations.listOrganizations({
        domains: [pendingDomain, other.domains[0].domain],
      });
      assert.deepEqual(both.data.map((o) => o.id).sort(), [org.id, other.id].sort());
    });

    test('updateOrganization changes name, external_id and metadata', async () => {
      assert.ok(org, 'depends on createOrganization');
      const newExternal = `org-ext2-${uid()}`;
      const updated = await workos.organizations.updateOrganization({
        organization: org.id,
        name: `${name} Renamed`,
        externalId: newExternal,
        metadata: { tier: 'silver' },
      });
      assert.equal(updated.id, org.id);
      assert.equal(updated.name, `${name} Renamed`);
      assert.equal(updated.externalId, newExternal);
      assert.deepEqual(updated.metadata, { tier: 'silver' });
      assert.equal(updated.domains.length, 2, 'domains untouched when domain_data is not sent');
      const got = await workos.organizations.getOrganizationByExternalId(newExternal);
      assert.equal(got.id, org.id);
    });

    test('organizationDomains.createOrganizationDomain returns a pending domain', async () => {
      assert.ok(org, 'depends on createOrganization');
      const domain = uniqueDomain('added');
      extraDomain = await workos.organizationDomains.createOrganizationDomain({
        domain,
        organizationId: org.id,
      });
      assertDomain(extraDomain, org.id, 'created domain');
      assert.equal(extraDomain.domain, domain);
      assert.equal(extraDomain.state, 'pending');
      assert.equal(typeof extraDomain.verificationToken, 'string', 'verification_token');
      assert.ok(extraDomain.verificationToken.length > 0, 'verification_token non-empty');
      assert.equal(typeof extraDomain.verificationPrefix, 'string', 'verification_prefix');

      const refreshed = await workos.organizations.getOrganization(org.id);
      assert.ok(refreshed.domains.some((d) => d.id === extraDomain.id), 'organization lists the new domain');
    });

    test('organizationDomains.getOrganizationDomain', async () => {
      assert.ok(extraDomain, 'depends on createOrganizationDomain');
      const got = await workos.organizationDomains.getOrganizationDomain(extraDomain.id);
      assertDomain(got, org.id, 'fetched domain');
      assert.equal(got.id, extraDomain.id);
      assert.equal(got.domain, extraDomain.domain);
    });

    test('organizationDomains.verifyOrganizationDomain without a DNS record does not verify', async (t) => {
      assert.ok(extraDomain, 'depends on createOrganizationDomain');
      const verified = await workos.organizationDomains.verifyOrganizationDomain(extraDomain.id);
      assertDomain(verified, org.id, 'verify response');
      assert.equal(verified.id, extraDomain.id);
      assert.notEqual(verified.state, 'verified');
      t.diagnostic(`state after verify: ${verified.state}`);
      const after = await workos.organizationDomains.getOrganizationDomain(extraDomain.id);
      assert.notEqual(after.state, 'verified');
      t.diagnostic(`state on re-read: ${after.state}`);
    });

    test('organizationDomains.deleteOrganizationDomain', async () => {
      assert.ok(extraDomain, 'depends on createOrganizationDomain');
      await workos.organizationDomains.deleteOrganizationDomain(extraDomain.id);
      await expectSdkError(
        sdk,
        workos.organizationDomains.getOrganizationDomain(extraDomain.id),
        'NotFoundException',
        404,
      );
      const refreshed = await workos.organizations.getOrganization(org.id);
      assert.ok(!refreshed.domains.some((d) => d.id === extraDomain.id), 'domain gone from organization');
    });

    test('deleteOrganization', async () => {
      assert.ok(org, 'depends on createOrganization');
      await workos.organizations.deleteOrganization(org.id);
      await expectSdkError(sdk, workos.organizations.getOrganization(org.id), 'NotFoundException', 404);
    });
  });
}
