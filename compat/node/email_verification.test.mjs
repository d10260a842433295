// Email verification: a password sign-in of an unverified user stops with
// `email_verification_required` (HTTP 403) and emails a code; the
// email-verification grant finishes it. Also the email verification API:
// getEmailVerification, sendVerificationEmail and verifyEmail.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  idPattern,
  ISO_MS,
  assertTimestamps,
  expectSdkError,
  expectExactSdkError,
  assertAccessToken,
  assertUnscoped,
  createUnverifiedUser,
  mailedCode,
  otherCode,
  PLAIN_PASSWORD,
} from './lib/harness.mjs';

const MISSING_USER = 'user_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_EMAIL_VERIFICATION = 'email_verification_01HZZZZZZZZZZZZZZZZZZZZZZZ';

function assertEmailVerification(ev, user, what = 'email verification') {
  assert.equal(ev.object, 'email_verification', `${what}.object`);
  assert.match(ev.id, idPattern('email_verification'), `${what}.id`);
  assert.equal(ev.userId, user.id, `${what}.user_id`);
  assert.equal(ev.email, user.email, `${what}.email`);
  assert.match(String(ev.code), /^\d{6}$/, `${what}.code is six digits`);
  assert.match(String(ev.expiresAt), ISO_MS, `${what}.expires_at format`);
  assertTimestamps(ev, what);
  const ttl = Date.parse(ev.expiresAt) - Date.parse(ev.createdAt);
  assert.ok(ttl > 5 * 60_000 && ttl <= 60 * 60_000, `${what} lives minutes, not ${ttl} ms`);
}

for (const sdk of SDKS) {
  describe(`email verification (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const u = uid(3);
    let org; // the one organization of `member`
    let orgA; // two organizations of `multi`
    let orgB;
    let solo; // unverified, no membership
    let member; // unverified, admin of `org`
    let multi; // unverified, member of orgA and orgB

    before(async () => {
      org = await workos.organizations.createOrganization({ name: `Verify ${u}` });
      orgA = await workos.organizations.createOrganization({ name: `Verify A ${u}` });
      orgB = await workos.organizations.createOrganization({ name: `Verify B ${u}` });
      solo = await createUnverifiedUser(workos, 'verify-solo');
      member = await createUnverifiedUser(workos, 'verify-member');
      multi = await createUnverifiedUser(workos, 'verify-multi');
      await um.createOrganizationMembership({ organizationId: org.id, userId: member.id, roleSlug: 'admin' });
      await um.createOrganizationMembership({ organizationId: orgA.id, userId: multi.id });
      await um.createOrganizationMembership({ organizationId: orgB.id, userId: multi.id });
    });

    // ---- the step-up on sign-in -------------------------------------------------

    let stepUp; // the email_verification_required error of `member`

    test('password sign-in of an unverified user -> AuthenticationException email_verification_required', async (t) => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: member.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(err.code, 'email_verification_required');
      assert.equal(typeof err.pendingAuthenticationToken, 'string');
      assert.ok(err.pendingAuthenticationToken.length > 0);
      assert.equal(err.rawData.pending_authentication_token, err.pendingAuthenticationToken);
      assert.equal(err.rawData.email, member.email);
      assert.match(String(err.rawData.email_verification_id), idPattern('email_verification'));
      assert.equal(typeof err.rawData.message, 'string');
      assert.equal(err.rawData.user?.object, 'user');
      assert.equal(err.rawData.user?.id, member.id);
      assert.equal(err.rawData.user?.email_verified, false);
      stepUp = err;
      t.diagnostic(`email verification required -> ${err.name} (HTTP ${err.status}): ${err.message}`);
    });

    let emailed; // the EmailVerification of the step-up

    test('getEmailVerification returns the emailed code', async () => {
      assert.ok(stepUp, 'depends on the email_verification_required test');
      emailed = await um.getEmailVerification(stepUp.rawData.email_verification_id);
      assert.equal(emailed.id, stepUp.rawData.email_verification_id);
      assertEmailVerification(emailed, member);
      const mail = await mailedCode(member.email);
      assert.equal(mail.code, emailed.code, 'the emailed code is the one the API shows');
    });

    test('a wrong code -> GenericServerException invalid_one_time_code; the pending token stays usable', async (t) => {
      assert.ok(emailed, 'depends on getEmailVerification');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithEmailVerification({
          code: otherCode(emailed.code),
          pendingAuthenticationToken: stepUp.pendingAuthenticationToken,
        }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_one_time_code');
      t.diagnostic(`wrong verification code -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('authenticateWithEmailVerification with the code signs in, scoped to the only organization', async () => {
      assert.ok(emailed, 'depends on getEmailVerification');
      const res = await um.authenticateWithEmailVerification({
        code: emailed.code,
        pendingAuthenticationToken: stepUp.pendingAuthenticationToken,
      });
      assert.equal(res.user.id, member.id);
      assert.equal(res.user.emailVerified, true, 'the returned user is verified');
      assert.equal(res.authenticationMethod, 'Password', 'the method of the first step');
      assert.equal(res.organizationId, org.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: member.id });
      assert.equal(claims.org_id, org.id);
      assert.equal(claims.role, 'admin');
      assert.equal(typeof res.refreshToken, 'string');
      assert.equal((await um.getUser(member.id)).emailVerified, true, 'the user record is verified');
    });

    test('the pending token is single use', async () => {
      assert.ok(emailed, 'depends on getEmailVerification');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithEmailVerification({
          code: emailed.code,
          pendingAuthenticationToken: stepUp.pendingAuthenticationToken,
        }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_pending_authentication_token');
    });

    test('the verified user then signs in with the password alone', async () => {
      const res = await um.authenticateWithPassword({ email: member.email, password: PLAIN_PASSWORD });
      assert.equal(res.user.id, member.id);
      assert.equal(res.organizationId, org.id);
    });

    test('an unknown pending token -> invalid_pending_authentication_token', async () => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithEmailVerification({ code: '123456', pendingAuthenticationToken: `nope-${uid()}` }),
        'GenericServerException',
        400,
      );
      assert.equal(err.code, 'invalid_pending_authentication_token');
    });

    test('without memberships the verified session is unscoped', async () => {
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: solo.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      const { code } = await um.getEmailVerification(err.rawData.email_verification_id);
      const res = await um.authenticateWithEmailVerification({
        code,
        pendingAuthenticationToken: err.pendingAuthenticationToken,
      });
      assert.equal(res.user.id, solo.id);
      assert.equal(res.organizationId, undefined);
      assertUnscoped(await assertAccessToken(workos, res.accessToken, { userId: solo.id }));
    });

    test('with several memberships, verification is followed by organization selection', async () => {
      const first = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: multi.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(first.code, 'email_verification_required');
      const { code } = await um.getEmailVerification(first.rawData.email_verification_id);
      const second = await expectExactSdkError(
        sdk,
        um.authenticateWithEmailVerification({ code, pendingAuthenticationToken: first.pendingAuthenticationToken }),
        'AuthenticationException',
        403,
      );
      assert.equal(second.code, 'organization_selection_required');
      assert.deepEqual(
        second.rawData.organizations.map((o) => o.id).sort(),
        [orgA.id, orgB.id].sort(),
      );
      const res = await um.authenticateWithOrganizationSelection({
        pendingAuthenticationToken: second.pendingAuthenticationToken,
        organizationId: orgB.id,
      });
      assert.equal(res.organizationId, orgB.id);
      assert.equal(res.user.emailVerified, true);
      assert.equal(res.authenticationMethod, 'Password');
    });

    // ---- the email verification API ------------------------------------------------

    test('verifyEmail with the emailed code -> { user } with emailVerified', async () => {
      const user = await createUnverifiedUser(workos, 'verify-api');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      const { code } = await um.getEmailVerification(err.rawData.email_verification_id);
      const wrong = await expectSdkError(
        sdk,
        um.verifyEmail({ userId: user.id, code: otherCode(code) }),
        'GenericServerException',
        400,
      );
      assert.equal(wrong.code, 'invalid_one_time_code');
      const res = await um.verifyEmail({ userId: user.id, code });
      assert.equal(res.user.object, 'user');
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.emailVerified, true);
      assertTimestamps(res.user, 'user');
      assert.equal((await um.getUser(user.id)).emailVerified, true);
      const reused = await expectSdkError(sdk, um.verifyEmail({ userId: user.id, code }), 'GenericServerException', 400);
      assert.equal(reused.code, 'one_time_code_previously_used');
    });

    test('sendVerificationEmail -> { user }; it emails a new code and only the newest code counts', async () => {
      const user = await createUnverifiedUser(workos, 'verify-send');
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      const first = await um.getEmailVerification(err.rawData.email_verification_id);
      const firstMail = await mailedCode(user.email);
      const sent = await um.sendVerificationEmail({ userId: user.id });
      assert.equal(sent.user.object, 'user');
      assert.equal(sent.user.id, user.id);
      assert.equal(sent.user.email, user.email);
      assert.equal(sent.user.emailVerified, false);
      const mail = await mailedCode(user.email, { notIds: [firstMail.id] });
      if (mail.code !== first.code) {
        const stale = await expectSdkError(
          sdk,
          um.verifyEmail({ userId: user.id, code: first.code }),
          'GenericServerException',
          400,
        );
        assert.equal(stale.code, 'invalid_one_time_code', 'the replaced code no longer works');
      }
      const res = await um.verifyEmail({ userId: user.id, code: mail.code });
      assert.equal(res.user.emailVerified, true);
    });

    test('sendVerificationEmail / verifyEmail for an unknown user -> NotFoundException', async () => {
      await expectSdkError(sdk, um.sendVerificationEmail({ userId: MISSING_USER }), 'NotFoundException', 404);
      await expectSdkError(sdk, um.verifyEmail({ userId: MISSING_USER, code: '123456' }), 'NotFoundException', 404);
    });

    test('getEmailVerification of an unknown id -> NotFoundException', async () => {
      await expectSdkError(sdk, um.getEmailVerification(MISSING_EMAIL_VERIFICATION), 'NotFoundException', 404);
    });
  });
}
