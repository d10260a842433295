// Magic Auth: createMagicAuth / getMagicAuth (the six-digit code, an account
// made for an unknown address), the magic-auth grant (verifies the email),
// the code's refusals (wrong, reused, too many guesses) and the per-address
// rate limit on sending codes.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  uniqueEmail,
  idPattern,
  ISO_MS,
  assertTimestamps,
  expectSdkError,
  expectExactSdkError,
  assertAccessToken,
  assertUnscoped,
  createPasswordUser,
  mailedCode,
  otherCode,
} from './lib/harness.mjs';

const MISSING_MAGIC_AUTH = 'magic_auth_01HZZZZZZZZZZZZZZZZZZZZZZZ';

function assertMagicAuth(ma, email, what = 'magic auth') {
  assert.equal(ma.object, 'magic_auth', `${what}.object`);
  assert.match(ma.id, idPattern('magic_auth'), `${what}.id`);
  assert.match(ma.userId, idPattern('user'), `${what}.user_id`);
  assert.equal(ma.email, email, `${what}.email`);
  assert.match(String(ma.code), /^\d{6}$/, `${what}.code is six digits`);
  assert.match(String(ma.expiresAt), ISO_MS, `${what}.expires_at format`);
  assertTimestamps(ma, what);
  const ttl = Date.parse(ma.expiresAt) - Date.parse(ma.createdAt);
  assert.ok(ttl > 5 * 60_000 && ttl <= 60 * 60_000, `${what} lives minutes, not ${ttl} ms`);
}

for (const sdk of SDKS) {
  describe(`magic auth (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const u = uid(3);
    let org;
    let existing; // a verified password user, admin of `org`

    before(async () => {
      org = await workos.organizations.createOrganization({ name: `Magic ${u}` });
      existing = await createPasswordUser(workos, 'magic-existing');
      await um.createOrganizationMembership({ organizationId: org.id, userId: existing.id, roleSlug: 'admin' });
    });

    const newEmail = uniqueEmail('magic-new');
    let created; // the MagicAuth for newEmail

    test('createMagicAuth for an unknown address -> MagicAuth with the code; an unverified user is created', async () => {
      created = await um.createMagicAuth({ email: newEmail });
      assertMagicAuth(created, newEmail);
      const user = await um.getUser(created.userId);
      assert.equal(user.email, newEmail);
      assert.equal(user.emailVerified, false, 'not verified until the code is used');
      const mail = await mailedCode(newEmail);
      assert.equal(mail.code, created.code, 'the emailed code is the one the API returned');
    });

    test('getMagicAuth returns the same object', async () => {
      assert.ok(created, 'depends on createMagicAuth');
      const got = await um.getMagicAuth(created.id);
      assertMagicAuth(got, newEmail);
      assert.equal(got.id, created.id);
      assert.equal(got.userId, created.userId);
      assert.equal(got.code, created.code);
      assert.equal(got.createdAt, created.createdAt);
      assert.equal(got.expiresAt, created.expiresAt);
    });

    test('a wrong code -> GenericServerException invalid_one_time_code', async (t) => {
      assert.ok(created, 'depends on createMagicAuth');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithMagicAuth({ code: otherCode(created.code), email: newEmail }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_one_time_code');
      t.diagnostic(`wrong magic code -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('authenticateWithMagicAuth signs in and verifies the email', async () => {
      assert.ok(created, 'depends on createMagicAuth');
      const res = await um.authenticateWithMagicAuth({ code: created.code, email: newEmail });
      assert.equal(res.user.id, created.userId);
      assert.equal(res.user.email, newEmail);
      assert.equal(res.user.emailVerified, true);
      assert.equal(res.authenticationMethod, 'MagicAuth');
      assert.equal(res.organizationId, undefined);
      assertUnscoped(await assertAccessToken(workos, res.accessToken, { userId: created.userId }));
      assert.equal((await um.getUser(created.userId)).emailVerified, true);
    });

    test('the same code again -> one_time_code_previously_used', async (t) => {
      assert.ok(created, 'depends on createMagicAuth');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithMagicAuth({ code: created.code, email: newEmail }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'one_time_code_previously_used');
      t.diagnostic(`reused magic code -> ${err.name} (HTTP ${err.status}, code ${err.code})`);
    });

    test('createMagicAuth for an existing user: that user, scoped to their organization', async () => {
      const ma = await um.createMagicAuth({ email: existing.email });
      assertMagicAuth(ma, existing.email);
      assert.equal(ma.userId, existing.id);
      const res = await um.authenticateWithMagicAuth({ code: ma.code, email: existing.email });
      assert.equal(res.user.id, existing.id);
      assert.equal(res.organizationId, org.id);
      assert.equal(res.authenticationMethod, 'MagicAuth');
      const claims = await assertAccessToken(workos, res.accessToken, { userId: existing.id });
      assert.equal(claims.org_id, org.id);
      assert.equal(claims.role, 'admin');
    });

    test('five wrong guesses use the code up -> one_time_code_too_many_attempts', async () => {
      const email = uniqueEmail('magic-guess');
      const ma = await um.createMagicAuth({ email });
      for (let i = 1; i <= 5; i++) {
        const err = await expectExactSdkError(
          sdk,
          um.authenticateWithMagicAuth({ code: otherCode(Number(ma.code) + i - 1), email }),
          'GenericServerException',
          400,
        );
        assert.equal(err.code, 'invalid_one_time_code', `guess ${i}`);
      }
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithMagicAuth({ code: ma.code, email }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'one_time_code_too_many_attempts', 'even the right code is refused now');
    });

    test('a code for another address is refused', async () => {
      const email = uniqueEmail('magic-other');
      const ma = await um.createMagicAuth({ email });
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithMagicAuth({ code: ma.code, email: uniqueEmail('magic-nobody') }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_one_time_code');
    });

    test('a fourth code for one address within a minute -> RateLimitExceededException with Retry-After', async (t) => {
      // No automatic retry: the SDK would wait Retry-After (up to a minute) first.
      const noRetry = client(sdk, { maxRetries: 0 }).userManagement;
      const email = uniqueEmail('magic-limit');
      for (let i = 0; i < 3; i++) await noRetry.createMagicAuth({ email });
      const err = await expectSdkError(sdk, noRetry.createMagicAuth({ email }), 'RateLimitExceededException', 429);
      assert.ok(
        Number.isFinite(err.retryAfter) && err.retryAfter >= 1 && err.retryAfter <= 60,
        `retryAfter ${err.retryAfter}`,
      );
      t.diagnostic(`4th magic code in a minute -> ${err.name} (HTTP ${err.status}, retryAfter ${err.retryAfter})`);
    });

    test('createMagicAuth with an invalid email -> UnprocessableEntityException', async () => {
      await expectSdkError(sdk, um.createMagicAuth({ email: 'not-an-email' }), 'UnprocessableEntityException', 422);
    });

    test('getMagicAuth of an unknown id -> NotFoundException', async () => {
      await expectSdkError(sdk, um.getMagicAuth(MISSING_MAGIC_AUTH), 'NotFoundException', 404);
    });
  });
}
