// Error responses must map onto the SDK's own exception classes.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  uniqueDomain,
  expectSdkError,
  expectClientError,
} from './lib/harness.mjs';

const MISSING_USER = 'user_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';

for (const sdk of SDKS) {
  describe(`errors (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk, { maxRetries: 0 });
    let org;

    before(async () => {
      org = await workos.organizations.createOrganization({
        name: `Errors ${uid()}`,
        domainData: [{ domain: uniqueDomain('errors'), state: 'verified' }],
      });
    });

    test('404 unknown user -> NotFoundException', async () => {
      const err = await expectSdkError(sdk, workos.userManagement.getUser(MISSING_USER), 'NotFoundException', 404);
      assert.equal(typeof err.requestID, 'string');
      assert.ok(err.requestID.length > 0, 'X-Request-ID is carried into the exception');
    });

    test('404 unknown organization -> NotFoundException', async () => {
      await expectSdkError(sdk, workos.organizations.getOrganization(MISSING_ORG), 'NotFoundException', 404);
    });

    test('401 wrong API key -> UnauthorizedException', async () => {
      const bad = client(sdk, { apiKey: `sk_test_wrong_${uid()}`, maxRetries: 0 });
      await expectSdkError(sdk, bad.userManagement.listUsers(), 'UnauthorizedException', 401);
      await expectSdkError(sdk, bad.organizations.getOrganization(org.id), 'UnauthorizedException', 401);
    });

    test('401 API key without sk_ prefix -> UnauthorizedException', async () => {
      const bad = client(sdk, { apiKey: `not-a-key-${uid()}`, maxRetries: 0 });
      await expectSdkError(sdk, bad.userManagement.getUser(MISSING_USER), 'UnauthorizedException', 401);
    });

    test('422 invalid email -> UnprocessableEntityException', async (t) => {
      const err = await expectSdkError(
        sdk,
        workos.userManagement.createUser({ email: 'not-an-email' }),
        'UnprocessableEntityException',
        422,
      );
      t.diagnostic(`message: ${err.message}`);
    });

    test('duplicate email -> 4xx SDK exception', async (t) => {
      const email = uniqueEmail('dup');
      await workos.userManagement.createUser({ email });
      const { err, className } = await expectClientError(sdk, workos.userManagement.createUser({ email }));
      t.diagnostic(`duplicate email -> ${className} (HTTP ${err.status}): ${err.message}`);
    });

    test('duplicate user external_id -> 4xx SDK exception', async (t) => {
      const externalId = `dup-ext-${uid()}`;
      await workos.userManagement.createUser({ email: uniqueEmail('dupext1'), externalId });
      const { err, className } = await expectClientError(
        sdk,
        workos.userManagement.createUser({ email: uniqueEmail('dupext2'), externalId }),
      );
      t.diagnostic(`duplicate user external_id -> ${className} (HTTP ${err.status}): ${err.message}`);
    });

    test('duplicate organization external_id -> 4xx SDK exception', async (t) => {
      const externalId = `dup-org-ext-${uid()}`;
      await workos.organizations.createOrganization({ name: `Dup A ${uid()}`, externalId });
      const { err, className } = await expectClientError(
        sdk,
        workos.organizations.createOrganization({ name: `Dup B ${uid()}`, externalId }),
      );
      t.diagnostic(`duplicate organization external_id -> ${className} (HTTP ${err.status}): ${err.message}`);
    });

    test('listOrganizationMemberships without organization_id or user_id -> 4xx', async (t) => {
      const { err, className } = await expectClientError(
        sdk,
        workos.userManagement.listOrganizationMemberships({}),
      );
      t.diagnostic(`missing filter -> ${className} (HTTP ${err.status}): ${err.message}`);
    });

    test('membership with an unknown role slug -> 4xx', async (t) => {
      const user = await workos.userManagement.createUser({ email: uniqueEmail('badrole') });
      const { err, className } = await expectClientError(
        sdk,
        workos.userManagement.createOrganizationMembership({
          organizationId: org.id,
          userId: user.id,
          roleSlug: `no-such-role-${uid()}`,
        }),
      );
      t.diagnostic(`unknown role slug -> ${className} (HTTP ${err.status}): ${err.message}`);
    });

    test('membership in an unknown organization -> 4xx', async (t) => {
      const user = await workos.userManagement.createUser({ email: uniqueEmail('badorg') });
      const { err, className } = await expectClientError(
        sdk,
        workos.userManagement.createOrganizationMembership({ organizationId: MISSING_ORG, userId: user.id }),
      );
      t.diagnostic(`unknown organization -> ${className} (HTTP ${err.status}): ${err.message}`);
    });
  });
}
