// Users: create (plain password and imported bcrypt hash), get, get by
// external id, list with filters, update (incl. metadata), identities, delete.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  uniqueDomain,
  idPattern,
  ISO_MS,
  assertTimestamps,
  expectSdkError,
  IMPORTED_BCRYPT_HASH,
  IMPORTED_PASSWORD,
  PLAIN_PASSWORD,
} from './lib/harness.mjs';

for (const sdk of SDKS) {
  describe(`users (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    let user; // created with a plain password
    let imported; // created from a bcrypt hash
    const email = uniqueEmail('pw');
    const externalId = `ext-${uid()}`;

    test('createUser with password returns a complete User', async () => {
      user = await workos.userManagement.createUser({
        email,
        password: PLAIN_PASSWORD,
        firstName: 'Ada',
        lastName: 'Lovelace',
        emailVerified: true,
        externalId,
        metadata: { tier: 'gold' },
      });
      assert.equal(user.object, 'user');
      assert.match(user.id, idPattern('user'));
      assert.equal(user.email, email);
      assert.equal(user.emailVerified, true);
      assert.equal(user.firstName, 'Ada');
      assert.equal(user.lastName, 'Lovelace');
      assert.equal(user.externalId, externalId);
      assert.deepEqual(user.metadata, { tier: 'gold' });
      // Nullable keys must be present as null, not omitted.
      assert.equal(user.profilePictureUrl, null, 'profile_picture_url must be null');
      assert.equal(user.lastSignInAt, null, 'last_sign_in_at must be null for a new user');
      assertTimestamps(user, 'user');
    });

    test('createUser with password_hash (bcrypt) imports the user', async () => {
      imported = await workos.userManagement.createUser({
        email: uniqueEmail('bcrypt'),
        passwordHash: IMPORTED_BCRYPT_HASH,
        passwordHashType: 'bcrypt',
        firstName: 'Imported',
        emailVerified: true,
      });
      assert.equal(imported.object, 'user');
      assert.match(imported.id, idPattern('user'));
      assert.equal(imported.firstName, 'Imported');
      assert.equal(imported.emailVerified, true);
    });

    test('imported bcrypt user signs in with the original password', async () => {
      assert.ok(imported, 'depends on the bcrypt import test');
      const res = await workos.userManagement.authenticateWithPassword({
        email: imported.email,
        password: IMPORTED_PASSWORD,
      });
      assert.equal(res.user.id, imported.id);
      assert.equal(typeof res.accessToken, 'string');
      assert.equal(typeof res.refreshToken, 'string');
    });

    test('user created with a plain password signs in with it', async () => {
      assert.ok(user, 'depends on createUser');
      const res = await workos.userManagement.authenticateWithPassword({
        email,
        password: PLAIN_PASSWORD,
      });
      assert.equal(res.user.id, user.id);
      assert.equal(typeof res.accessToken, 'string');
    });

    test('getUser returns the same user', async () => {
      assert.ok(user, 'depends on createUser');
      const got = await workos.userManagement.getUser(user.id);
      assert.equal(got.id, user.id);
      assert.equal(got.email, email);
      assert.equal(got.externalId, externalId);
      assert.deepEqual(got.metadata, { tier: 'gold' });
      assert.equal(got.createdAt, user.createdAt);
    });

    test('getUserByExternalId finds the user', async () => {
      assert.ok(user, 'depends on createUser');
      const got = await workos.userManagement.getUserByExternalId(externalId);
      assert.equal(got.id, user.id);
      assert.equal(got.externalId, externalId);
    });

    test('listUsers filters by email', async () => {
      assert.ok(user, 'depends on createUser');
      const list = await workos.userManagement.listUsers({ email });
      assert.equal(list.object, 'list');
      assert.deepEqual(list.data.map((u) => u.id), [user.id]);
      assert.ok(list.listMetadata, 'list_metadata must be present');
    });

    test('listUsers filters by organization_id', async () => {
      assert.ok(user, 'depends on createUser');
      const org = await workos.organizations.createOrganization({
        name: `Users filter ${uid()}`,
        domainData: [{ domain: uniqueDomain('ufilter'), state: 'verified' }],
      });
      await workos.userManagement.createOrganizationMembership({
        organizationId: org.id,
        userId: user.id,
      });
      const list = await workos.userManagement.listUsers({ organizationId: org.id });
      assert.deepEqual(list.data.map((u) => u.id), [user.id]);
    });

    test('updateUser changes names and metadata', async () => {
      assert.ok(user, 'depends on createUser');
      const updated = await workos.userManagement.updateUser({
        userId: user.id,
        firstName: 'Grace',
        lastName: 'Hopper',
        metadata: { tier: 'platinum', region: 'eu' },
      });
      assert.equal(updated.id, user.id);
      assert.equal(updated.firstName, 'Grace');
      assert.equal(updated.lastName, 'Hopper');
      assert.deepEqual(updated.metadata, { tier: 'platinum', region: 'eu' });
      assert.match(updated.updatedAt, ISO_MS);
      assert.ok(updated.updatedAt >= user.updatedAt, 'updated_at must not go backwards');

      const got = await workos.userManagement.getUser(user.id);
      assert.equal(got.firstName, 'Grace');
      assert.deepEqual(got.metadata, { tier: 'platinum', region: 'eu' });
    });

    test('updateUser with a null metadata value removes that key', async () => {
      assert.ok(user, 'depends on createUser');
      const updated = await workos.userManagement.updateUser({
        userId: user.id,
        metadata: { region: null },
      });
      assert.equal(updated.metadata.region, undefined, `metadata was ${JSON.stringify(updated.metadata)}`);
      assert.equal(updated.metadata.tier, 'platinum');
    });

    test('getUserIdentities returns an empty array', async () => {
      assert.ok(user, 'depends on createUser');
      const identities = await workos.userManagement.getUserIdentities(user.id);
      assert.deepEqual(identities, []);
    });

    test('deleteUser removes the user', async () => {
      assert.ok(imported, 'depends on the bcrypt import test');
      await workos.userManagement.deleteUser(imported.id);
      await expectSdkError(sdk, workos.userManagement.getUser(imported.id), 'NotFoundException', 404);
    });
  });
}
