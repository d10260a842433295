// Password reset: createPasswordReset / getPasswordReset (token and URL),
// resetPassword (the new password works and the old one does not, the token
// is single use, weak passwords are refused, the email counts as verified,
// the user's sessions end).

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uniqueEmail,
  idPattern,
  ISO_MS,
  expectSdkError,
  expectExactSdkError,
  assertAccessToken,
  createPasswordUser,
  createUnverifiedUser,
  PLAIN_PASSWORD,
  PORTICO_URL,
} from './lib/harness.mjs';

const NEW_PASSWORD = 'Brand-New-Passw0rd-42!';
const MISSING_PASSWORD_RESET = 'password_reset_01HZZZZZZZZZZZZZZZZZZZZZZZ';

function assertPasswordReset(reset, user, what = 'password reset') {
  assert.equal(reset.object, 'password_reset', `${what}.object`);
  assert.match(reset.id, idPattern('password_reset'), `${what}.id`);
  assert.equal(reset.userId, user.id, `${what}.user_id`);
  assert.equal(reset.email, user.email, `${what}.email`);
  assert.equal(typeof reset.passwordResetToken, 'string', `${what}.password_reset_token`);
  assert.ok(reset.passwordResetToken.length >= 20, `${what}.password_reset_token is long`);
  const url = new URL(reset.passwordResetUrl);
  assert.equal(url.searchParams.get('token'), reset.passwordResetToken, `${what}.password_reset_url carries the token`);
  assert.ok(reset.passwordResetUrl.startsWith(`${PORTICO_URL}/`), `${what}.password_reset_url is on the server`);
  assert.match(String(reset.expiresAt), ISO_MS, `${what}.expires_at format`);
  assert.match(String(reset.createdAt), ISO_MS, `${what}.created_at format`);
  const ttl = Date.parse(reset.expiresAt) - Date.parse(reset.createdAt);
  assert.ok(ttl >= 10 * 60_000 && ttl <= 24 * 3600_000, `${what} lives minutes to hours, not ${ttl} ms`);
}

for (const sdk of SDKS) {
  describe(`password reset (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    let user; // verified, PLAIN_PASSWORD until reset
    let refreshToken; // of a session started before the reset

    before(async () => {
      user = await createPasswordUser(workos, 'reset');
      refreshToken = (await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD })).refreshToken;
    });

    let reset;

    test('createPasswordReset -> PasswordReset with token and URL', async () => {
      reset = await um.createPasswordReset({ email: user.email });
      assertPasswordReset(reset, user);
    });

    test('getPasswordReset returns the same reset', async () => {
      assert.ok(reset, 'depends on createPasswordReset');
      const got = await um.getPasswordReset(reset.id);
      assertPasswordReset(got, user);
      assert.equal(got.id, reset.id);
      assert.equal(got.passwordResetToken, reset.passwordResetToken);
      assert.equal(got.passwordResetUrl, reset.passwordResetUrl);
      assert.equal(got.expiresAt, reset.expiresAt);
      assert.equal(got.createdAt, reset.createdAt);
    });

    test('createPasswordReset for an unknown email -> NotFoundException', async () => {
      await expectSdkError(sdk, um.createPasswordReset({ email: uniqueEmail('reset-nobody') }), 'NotFoundException', 404);
    });

    test('a weak new password -> UnprocessableEntityException; the token is kept', async (t) => {
      assert.ok(reset, 'depends on createPasswordReset');
      const err = await expectSdkError(
        sdk,
        um.resetPassword({ token: reset.passwordResetToken, newPassword: 'short' }),
        'UnprocessableEntityException',
        422,
      );
      t.diagnostic(`weak password -> ${err.name} (HTTP ${err.status}): ${err.message}`);
    });

    test('resetPassword -> { user }; the new password signs in, the old one does not', async () => {
      assert.ok(reset, 'depends on createPasswordReset');
      const res = await um.resetPassword({ token: reset.passwordResetToken, newPassword: NEW_PASSWORD });
      assert.equal(res.user.object, 'user');
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.emailVerified, true);
      const signedIn = await um.authenticateWithPassword({ email: user.email, password: NEW_PASSWORD });
      assert.equal(signedIn.user.id, user.id);
      await assertAccessToken(workos, signedIn.accessToken, { userId: user.id });
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_credentials');
    });

    test('the reset ended the sessions started before it', async () => {
      assert.ok(reset, 'depends on createPasswordReset');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invalid_grant');
    });

    test('the token is single use -> invalid_grant', async (t) => {
      assert.ok(reset, 'depends on createPasswordReset');
      const err = await expectSdkError(
        sdk,
        um.resetPassword({ token: reset.passwordResetToken, newPassword: `${NEW_PASSWORD}-again` }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_grant');
      t.diagnostic(`reused reset token -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('an unknown token -> invalid_grant', async () => {
      const err = await expectSdkError(
        sdk,
        um.resetPassword({ token: 'not-a-reset-token', newPassword: NEW_PASSWORD }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_grant');
    });

    test('a reset verifies the email: the user then signs in without the verification step', async () => {
      const unverified = await createUnverifiedUser(workos, 'reset-unverified');
      const { passwordResetToken } = await um.createPasswordReset({ email: unverified.email });
      const res = await um.resetPassword({ token: passwordResetToken, newPassword: NEW_PASSWORD });
      assert.equal(res.user.emailVerified, true);
      const signedIn = await um.authenticateWithPassword({ email: unverified.email, password: NEW_PASSWORD });
      assert.equal(signedIn.user.id, unverified.id);
      assert.equal(signedIn.user.emailVerified, true);
    });

    test('getPasswordReset of an unknown id -> NotFoundException', async () => {
      await expectSdkError(sdk, um.getPasswordReset(MISSING_PASSWORD_RESET), 'NotFoundException', 404);
    });
  });
}
