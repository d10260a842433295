// TOTP second factors and organization sign-in policies: the WorkOS
// auth-factor API (`multiFactorAuth.createUserAuthFactor` /
// `listUserAuthFactors` / `getFactor` / `challengeFactor` /
// `verifyChallenge` / `deleteFactor`), the mfa-totp grant
// (`authenticateWithTotp`) after the `mfa_enrollment` and `mfa_challenge`
// step-ups, and Portico's own per-organization policy API (`GET` / `PUT
// /organizations/{id}/policy`, `POST …/policy/dry_run`, plain HTTP: no SDK
// has the calls): MFA required now or after a grace period, the step-up when
// a refresh switches into an organization that requires MFA (same session
// afterwards), the IP allowlist on refresh, and the 422 that names each
// malformed rule. Codes are computed here (RFC 6238) from the factor's
// secret; each step's code is accepted once per factor, so a second code
// within one 30-second step is the next step's (`authenticator` from
// compat/lib/totp.mjs, re-exported by the harness).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  SDKS,
  client,
  uid,
  idPattern,
  ISO_MS,
  assertTimestamps,
  expectExactSdkError,
  expectClientError,
  assertAccessToken,
  createPasswordUser,
  rawRequest,
  authenticator,
  stepAt,
  totpAt,
  wrongCode,
  PLAIN_PASSWORD,
} from './lib/harness.mjs';

const MISSING_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_FACTOR = 'auth_factor_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const DAY_MS = 24 * 60 * 60 * 1000;
const BASE32 = /^[A-Z2-7]+=*$/;

/** PUT /organizations/{id}/policy (raw HTTP, with the API key). */
function putPolicy(organizationId, body) {
  return rawRequest('PUT', `/organizations/${organizationId}/policy`, { body });
}

/** GET /organizations/{id}/policy. */
function getPolicy(organizationId) {
  return rawRequest('GET', `/organizations/${organizationId}/policy`);
}

/** POST /organizations/{id}/policy/dry_run. */
function dryRun(organizationId, body) {
  return rawRequest('POST', `/organizations/${organizationId}/policy/dry_run`, { body });
}

/** Require a 200 policy answer for `organizationId` and return its JSON. */
function policyOk(res, organizationId) {
  assert.equal(res.status, 200, `policy: ${res.status} ${res.text}`);
  assert.equal(res.json.object, 'organization_policy');
  assert.equal(res.json.organization_id, organizationId);
  return res.json;
}

/** The `field`s a 422 body names. */
function invalidFields(res) {
  assert.equal(res.status, 422, `expected 422, got ${res.status}: ${res.text}`);
  assert.equal(res.json?.code, 'invalid_request_parameters', res.text);
  assert.ok(Array.isArray(res.json.errors) && res.json.errors.length > 0, `errors in ${res.text}`);
  for (const e of res.json.errors) {
    assert.equal(typeof e.field, 'string', JSON.stringify(e));
    assert.equal(typeof e.code, 'string', JSON.stringify(e));
    assert.equal(typeof e.message, 'string', JSON.stringify(e));
  }
  return res.json.errors.map((e) => e.field);
}

function assertChallenge(challenge, factorId, what = 'challenge') {
  assert.equal(challenge.object, 'authentication_challenge', `${what}.object`);
  assert.match(challenge.id, idPattern('auth_challenge'), `${what}.id`);
  assert.equal(challenge.authenticationFactorId, factorId, `${what}.authentication_factor_id`);
  assert.equal(challenge.code, null, `${what}.code (TOTP challenges carry none)`);
  assert.match(String(challenge.expiresAt), ISO_MS, `${what}.expires_at`);
  assert.ok(challenge.expiresAt > challenge.createdAt, `${what}.expires_at after created_at`);
  assertTimestamps(challenge, what);
}

for (const sdk of SDKS) {
  describe(`MFA and organization policies (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const mfa = workos.multiFactorAuth;
    const u = uid(3);

    /** A password user who is an active member of each of `organizations`. */
    async function member(tag, ...organizations) {
      const user = await createPasswordUser(workos, tag);
      for (const org of organizations) {
        await um.createOrganizationMembership({ organizationId: org.id, userId: user.id, roleSlug: 'member' });
      }
      return user;
    }

    /** An organization whose policy requires MFA now (no grace period). */
    async function mfaRequiredOrg(name) {
      const org = await workos.organizations.createOrganization({ name: `${name} ${u}` });
      const policy = policyOk(await putPolicy(org.id, { mfa: { required: true } }), org.id);
      assert.equal(policy.mfa.required, true);
      assert.equal(policy.mfa.enforced_from, null, 'no grace period: enforced at once');
      return org;
    }

    /** Enroll a TOTP factor for `userId`: `{ factor, challenge, device }`. */
    async function enroll(userId, options = {}) {
      const res = await mfa.createUserAuthFactor({ userId, type: 'totp', ...options });
      return {
        factor: res.authenticationFactor,
        challenge: res.authenticationChallenge,
        device: authenticator(res.authenticationFactor.totp.secret),
      };
    }

    // ---- the auth-factor API -------------------------------------------------

    test('enroll, list, get, challenge, verify and delete a TOTP factor', async (t) => {
      const user = await createPasswordUser(workos, 'mfa-factor');
      const issuer = `Compat ${u}`;
      const { factor, challenge, device } = await enroll(user.id, { totpIssuer: issuer, totpUser: `${user.email} (work)` });

      assert.equal(factor.object, 'authentication_factor');
      assert.match(factor.id, idPattern('auth_factor'));
      assert.equal(factor.type, 'totp');
      assert.equal(factor.userId, user.id);
      assertTimestamps(factor, 'factor');
      assert.equal(factor.totp.issuer, issuer);
      assert.equal(factor.totp.user, `${user.email} (work)`);
      assert.match(factor.totp.secret, BASE32, 'secret is base32');
      assert.ok(factor.totp.secret.replace(/=+$/, '').length >= 16, 'secret has at least 80 bits');
      assert.match(factor.totp.qrCode, /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/, 'qr_code is a PNG data URL');
      assert.ok(factor.totp.uri.startsWith('otpauth://totp/'), factor.totp.uri);
      const uri = new URL(factor.totp.uri);
      assert.equal(uri.searchParams.get('secret'), factor.totp.secret, 'the URI carries the secret');
      assert.equal(uri.searchParams.get('issuer'), issuer, 'the URI carries the issuer');
      assertChallenge(challenge, factor.id, 'enrollment challenge');

      // Defaults: the account is the user's email; an imported secret is kept.
      const imported = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      const second = await enroll(user.id, { totpSecret: imported });
      assert.equal(second.factor.totp.user, user.email, 'totp_user defaults to the email');
      assert.equal(typeof second.factor.totp.issuer, 'string');
      assert.ok(second.factor.totp.issuer.length > 0, 'totp_issuer has a default');
      assert.equal(second.factor.totp.secret, imported, 'totp_secret is used as given');

      // List: both factors, no secrets.
      const list = await mfa.listUserAuthFactors({ userId: user.id });
      const ids = list.data.map((f) => f.id);
      assert.deepEqual([...ids].sort(), [factor.id, second.factor.id].sort());
      const listed = list.data.find((f) => f.id === factor.id);
      assert.equal(listed.object, 'authentication_factor');
      assert.equal(listed.type, 'totp');
      assert.equal(listed.userId, user.id);
      assert.deepEqual(listed.totp, { issuer, user: `${user.email} (work)` });
      const rawList = await rawRequest('GET', `/user_management/users/${user.id}/auth_factors`);
      assert.equal(rawList.status, 200, rawList.text);
      assert.equal(rawList.json.object, 'list');
      for (const f of rawList.json.data) {
        for (const secretField of ['secret', 'qr_code', 'uri']) {
          assert.equal(f.totp[secretField], undefined, `a listed factor carries no ${secretField}`);
        }
      }

      // Get: no secrets either.
      const got = await mfa.getFactor(factor.id);
      assert.equal(got.id, factor.id);
      assert.equal(got.object, 'authentication_factor');
      assert.equal(got.type, 'totp');
      assert.deepEqual(got.totp, { issuer, user: `${user.email} (work)` });
      assertTimestamps(got, 'got factor');
      const rawGot = await rawRequest('GET', `/auth/factors/${factor.id}`);
      assert.equal(rawGot.status, 200, rawGot.text);
      assert.equal(rawGot.json.user_id, user.id);
      assert.equal(rawGot.json.totp.secret, undefined, 'a fetched factor carries no secret');

      // Challenge and verify.
      const fresh = await mfa.challengeFactor({ authenticationFactorId: factor.id });
      assertChallenge(fresh, factor.id, 'new challenge');
      assert.notEqual(fresh.id, challenge.id);
      const wrong = await mfa.verifyChallenge({ authenticationChallengeId: fresh.id, code: wrongCode(device.secret) });
      assert.equal(wrong.valid, false, 'a wrong code is not valid');
      assert.equal(wrong.challenge.id, fresh.id);
      assert.equal(wrong.challenge.authenticationFactorId, factor.id);
      const right = await mfa.verifyChallenge({ authenticationChallengeId: fresh.id, code: await device.next() });
      assert.equal(right.valid, true, 'the current code is valid');
      assert.equal(right.challenge.id, fresh.id);
      assertChallenge(right.challenge, factor.id, 'verified challenge');

      // A verified challenge cannot be answered again.
      // ({code, message}, as the one-time-code grants refuse a code.)
      const reused = await expectExactSdkError(
        sdk,
        mfa.verifyChallenge({ authenticationChallengeId: fresh.id, code: totpAt(factor.totp.secret, stepAt() + 1) }),
        'GenericServerException',
        400,
      );
      assert.equal(reused.code, 'authentication_challenge_previously_verified');
      t.diagnostic(`reused challenge -> ${reused.name} (HTTP ${reused.status}, code ${reused.code})`);

      // The verified factor now counts for sign-in (no policy needed); the
      // unverified one is not offered.
      const step = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(step.code, 'mfa_challenge');
      assert.deepEqual(step.rawData.authentication_factors, [{ id: factor.id, type: 'totp' }]);

      // Delete: gone from get and list; without a verified factor, no challenge.
      await mfa.deleteFactor(factor.id);
      await expectExactSdkError(sdk, mfa.getFactor(factor.id), 'NotFoundException', 404);
      await expectExactSdkError(sdk, mfa.deleteFactor(factor.id), 'NotFoundException', 404);
      const after = await mfa.listUserAuthFactors({ userId: user.id });
      assert.deepEqual(after.data.map((f) => f.id), [second.factor.id]);
      const signIn = await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD });
      assert.equal(signIn.user.id, user.id, 'with only an unverified factor left, sign-in needs no second factor');
    });

    test('unknown factors and challenges -> NotFoundException', async () => {
      await expectExactSdkError(sdk, mfa.getFactor(MISSING_FACTOR), 'NotFoundException', 404);
      await expectExactSdkError(sdk, mfa.challengeFactor({ authenticationFactorId: MISSING_FACTOR }), 'NotFoundException', 404);
      await expectExactSdkError(
        sdk,
        mfa.verifyChallenge({ authenticationChallengeId: 'auth_challenge_01HZZZZZZZZZZZZZZZZZZZZZZZ', code: '123456' }),
        'NotFoundException',
        404,
      );
    });

    // ---- sign-in under an MFA policy -------------------------------------------

    test('MFA required: mfa_enrollment, enroll, authenticateWithTotp; then mfa_challenge on the next sign-in', async (t) => {
      const org = await mfaRequiredOrg('MFA Required');
      const user = await member('mfa-required', org);

      // First sign-in: no factor yet -> enroll.
      const enrollment = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(enrollment.code, 'mfa_enrollment');
      assert.equal(typeof enrollment.pendingAuthenticationToken, 'string');
      assert.ok(enrollment.pendingAuthenticationToken.length > 0);
      assert.equal(enrollment.rawData.pending_authentication_token, enrollment.pendingAuthenticationToken);
      assert.equal(typeof enrollment.rawData.message, 'string');
      assert.equal(enrollment.rawData.user?.object, 'user');
      assert.equal(enrollment.rawData.user?.id, user.id);
      t.diagnostic(`MFA enrollment required -> ${enrollment.name} (HTTP ${enrollment.status}): ${enrollment.message}`);

      const { factor, challenge, device } = await enroll(user.id);
      const first = await um.authenticateWithTotp({
        code: await device.next(),
        pendingAuthenticationToken: enrollment.pendingAuthenticationToken,
        authenticationChallengeId: challenge.id,
      });
      assert.equal(first.user.id, user.id);
      assert.equal(first.organizationId, org.id, 'scoped to the organization that asked for MFA');
      assert.equal(first.authenticationMethod, 'Password', 'the method of the first step');
      assert.equal(typeof first.refreshToken, 'string');
      const firstClaims = await assertAccessToken(workos, first.accessToken, { userId: user.id });
      assert.equal(firstClaims.org_id, org.id);
      assert.equal(firstClaims.role, 'member');

      // The pending token is single use.
      const replay = await expectClientError(
        sdk,
        um.authenticateWithTotp({
          code: wrongCode(device.secret),
          pendingAuthenticationToken: enrollment.pendingAuthenticationToken,
          authenticationChallengeId: challenge.id,
        }),
      );
      assert.equal(replay.err.status, 400);
      assert.equal(replay.err.code, 'invalid_pending_authentication_token');

      // Next sign-in: the verified factor is challenged.
      const challenged = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(challenged.code, 'mfa_challenge');
      assert.equal(typeof challenged.pendingAuthenticationToken, 'string');
      assert.notEqual(challenged.pendingAuthenticationToken, enrollment.pendingAuthenticationToken);
      assert.equal(challenged.rawData.user?.id, user.id);
      assert.deepEqual(challenged.rawData.authentication_factors, [{ id: factor.id, type: 'totp' }]);
      t.diagnostic(`MFA challenge -> ${challenged.name} (HTTP ${challenged.status}): ${challenged.message}`);

      const next = await mfa.challengeFactor({ authenticationFactorId: factor.id });
      assertChallenge(next, factor.id);

      // A wrong code is refused as a wrong Magic Auth code is ({code, message},
      // no `errors`); the pending token stays usable.
      const wrong = await expectExactSdkError(
        sdk,
        um.authenticateWithTotp({
          code: wrongCode(device.secret),
          pendingAuthenticationToken: challenged.pendingAuthenticationToken,
          authenticationChallengeId: next.id,
        }),
        'GenericServerException',
        400,
      );
      assert.equal(wrong.code, 'invalid_one_time_code');
      assert.equal(wrong.rawData?.errors, undefined, 'no errors array');
      t.diagnostic(`wrong TOTP code -> ${wrong.name} (HTTP ${wrong.status}, code ${wrong.code}): ${wrong.message}`);

      const second = await um.authenticateWithTotp({
        code: await device.next(),
        pendingAuthenticationToken: challenged.pendingAuthenticationToken,
        authenticationChallengeId: next.id,
      });
      assert.equal(second.user.id, user.id);
      assert.equal(second.organizationId, org.id);
      const secondClaims = await assertAccessToken(workos, second.accessToken, { userId: user.id });
      assert.equal(secondClaims.org_id, org.id);
      assert.notEqual(secondClaims.sid, firstClaims.sid, 'a new sign-in is a new session');

      // The session that passed MFA refreshes without another step-up.
      const refreshed = await um.authenticateWithRefreshToken({ refreshToken: second.refreshToken });
      assert.equal(refreshed.organizationId, org.id);
      await assertAccessToken(workos, refreshed.accessToken, { userId: user.id, sessionId: secondClaims.sid });
    });

    test('MFA with a grace period: members sign in without a factor; dry run and policy show the deadline', async () => {
      const org = await workos.organizations.createOrganization({ name: `MFA Grace ${u}` });
      const user = await createPasswordUser(workos, 'mfa-grace');
      const membership = await um.createOrganizationMembership({ organizationId: org.id, userId: user.id });
      const body = { mfa: { required: true, grace_period_days: 7 } };

      const before = Date.now();
      const saved = policyOk(await putPolicy(org.id, body), org.id);
      assert.equal(saved.mfa.required, true);
      assert.match(String(saved.mfa.enforced_from), ISO_MS, 'enforced_from');
      const enforcedFrom = Date.parse(saved.mfa.enforced_from);
      assert.ok(
        enforcedFrom >= before + 7 * DAY_MS - 1_000 && enforcedFrom <= Date.now() + 7 * DAY_MS + 1_000,
        `enforced_from ${saved.mfa.enforced_from} is 7 days ahead`,
      );
      assert.equal(saved.revoked_session_count, 0);
      assert.equal(saved.ip_allowlist, null, 'absent rules are off');
      assert.equal(saved.allowed_authentication_methods, null);
      assert.match(String(saved.created_at), ISO_MS);
      assert.match(String(saved.updated_at), ISO_MS);

      // During the grace period a member without a factor signs in normally.
      const res = await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD });
      assert.equal(res.user.id, user.id);
      assert.equal(res.organizationId, org.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, org.id);

      // The dry run names the member and the rule.
      const dry = await dryRun(org.id, body);
      assert.equal(dry.status, 200, dry.text);
      assert.equal(dry.json.object, 'organization_policy_dry_run');
      assert.equal(dry.json.member_count, 1);
      assert.equal(dry.json.affected_member_count, 1);
      assert.equal(typeof dry.json.sessions_ended_by_enforce_now, 'number');
      assert.equal(dry.json.members.length, 1);
      const [row] = dry.json.members;
      assert.equal(row.organization_membership_id, membership.id);
      assert.equal(row.user_id, user.id);
      assert.equal(row.email, user.email);
      assert.equal(typeof row.sessions_ended_by_enforce_now, 'number');
      const finding = row.findings.find((f) => f.rule === 'mfa');
      assert.ok(finding, `an mfa finding in ${JSON.stringify(row.findings)}`);
      assert.equal(typeof finding.code, 'string');
      assert.equal(typeof finding.message, 'string');

      // GET shows the saved deadline (a dry run changes nothing).
      const got = policyOk(await getPolicy(org.id), org.id);
      assert.equal(got.mfa.required, true);
      assert.equal(got.mfa.enforced_from, saved.mfa.enforced_from);
      assert.deepEqual(got.session, { max_lifetime_seconds: null, idle_timeout_seconds: null, reauthentication_interval_seconds: null });
      assert.equal(got.break_glass_user_id, null);
    });

    test('switching into an organization that requires MFA steps up, then continues the same session', async (t) => {
      const orgA = await mfaRequiredOrg('MFA Switch A');
      const orgB = await workos.organizations.createOrganization({ name: `MFA Switch B ${u}` });
      const user = await member('mfa-switch', orgA, orgB);

      // Two memberships: the organization is chosen first, then B's (empty) policy applies.
      const selection = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD }),
        'AuthenticationException',
        403,
      );
      assert.equal(selection.code, 'organization_selection_required');
      const inB = await um.authenticateWithOrganizationSelection({
        pendingAuthenticationToken: selection.pendingAuthenticationToken,
        organizationId: orgB.id,
      });
      assert.equal(inB.organizationId, orgB.id);
      const { sid } = await assertAccessToken(workos, inB.accessToken, { userId: user.id });

      // Into A: the session has not passed MFA -> step-up.
      const stepUp = await expectExactSdkError(
        sdk,
        um.authenticateWithRefreshToken({ refreshToken: inB.refreshToken, organizationId: orgA.id }),
        'AuthenticationException',
        403,
      );
      assert.equal(stepUp.code, 'mfa_enrollment');
      assert.equal(typeof stepUp.pendingAuthenticationToken, 'string');
      assert.ok(stepUp.pendingAuthenticationToken.length > 0);
      assert.equal(stepUp.rawData.user?.id, user.id);
      t.diagnostic(`switch into an MFA organization -> ${stepUp.name} (HTTP ${stepUp.status}, code ${stepUp.code})`);

      const { challenge, device } = await enroll(user.id);
      const inA = await um.authenticateWithTotp({
        code: await device.next(),
        pendingAuthenticationToken: stepUp.pendingAuthenticationToken,
        authenticationChallengeId: challenge.id,
      });
      assert.equal(inA.user.id, user.id);
      assert.equal(inA.organizationId, orgA.id);
      const claims = await assertAccessToken(workos, inA.accessToken, { userId: user.id, sessionId: sid });
      assert.equal(claims.org_id, orgA.id, 'the same session, now in A');
      assert.equal(claims.role, 'member');
    });

    // ---- IP allowlist ----------------------------------------------------------------

    test('an IP allowlist refuses refreshes from elsewhere; the refresh token stays usable', async (t) => {
      const org = await workos.organizations.createOrganization({ name: `IP Allowlist ${u}` });
      const user = await member('ip-allow', org);
      const signIn = await um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD });
      assert.equal(signIn.organizationId, org.id);
      const { sid } = await assertAccessToken(workos, signIn.accessToken, { userId: user.id });

      const saved = policyOk(await putPolicy(org.id, { ip_allowlist: ['203.0.113.0/24'], enforce_now: false }), org.id);
      assert.deepEqual(saved.ip_allowlist, ['203.0.113.0/24']);
      assert.equal(saved.mfa.required, false, 'absent rules are off');
      assert.equal(saved.revoked_session_count, 0);

      for (const ipAddress of ['198.51.100.7', undefined]) {
        const err = await expectExactSdkError(
          sdk,
          um.authenticateWithRefreshToken({ refreshToken: signIn.refreshToken, ipAddress }),
          'OauthException',
          400,
        );
        assert.equal(err.error, 'access_denied', `refresh from ${ipAddress ?? 'the caller (127.0.0.1)'}`);
        assert.equal(typeof err.errorDescription, 'string');
        t.diagnostic(`refresh from ${ipAddress ?? '127.0.0.1'} outside the allowlist -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
      }

      const res = await um.authenticateWithRefreshToken({ refreshToken: signIn.refreshToken, ipAddress: '203.0.113.9' });
      assert.notEqual(res.refreshToken, signIn.refreshToken);
      assert.equal(res.organizationId, org.id);
      await assertAccessToken(workos, res.accessToken, { userId: user.id, sessionId: sid });
    });

    // ---- validation ---------------------------------------------------------------------

    test('a malformed policy -> 422 naming each field; nothing is saved', async () => {
      const org = await workos.organizations.createOrganization({ name: `Policy Invalid ${u}` });
      const bad = { mfa: { required: true, grace_period_days: 365 }, ip_allowlist: ['not-a-network'] };
      const fields = invalidFields(await putPolicy(org.id, bad));
      assert.ok(fields.includes('mfa.grace_period_days'), `fields ${JSON.stringify(fields)}`);
      assert.ok(fields.includes('ip_allowlist[0]'), `fields ${JSON.stringify(fields)}`);
      assert.ok(invalidFields(await dryRun(org.id, bad)).includes('ip_allowlist[0]'), 'the dry run checks the same');
      assert.deepEqual(invalidFields(await putPolicy(org.id, { mfa: { required: true, grace_period_days: -1 } })), [
        'mfa.grace_period_days',
      ]);
      assert.deepEqual(invalidFields(await putPolicy(org.id, { ip_allowlist: ['10.0.0.0/8', '300.1.2.3'] })), [
        'ip_allowlist[1]',
      ]);

      const got = policyOk(await getPolicy(org.id), org.id);
      assert.equal(got.mfa.required, false, 'nothing was saved');
      assert.equal(got.ip_allowlist, null);
    });

    test('the policy of an unknown organization -> 404', async () => {
      for (const res of [
        await getPolicy(MISSING_ORG),
        await putPolicy(MISSING_ORG, { mfa: { required: true } }),
        await dryRun(MISSING_ORG, { mfa: { required: true } }),
      ]) {
        assert.equal(res.status, 404, res.text);
        assert.equal(typeof res.json?.message, 'string', res.text);
      }
    });
  });
}

// The codes above (and the browser tests') come from compat/lib/totp.mjs: check
// it against RFC 6238's own examples (SHA-1, key "12345678901234567890"), so a
// refused code is Portico's failure, not the test's.
test('compat/lib/totp.mjs matches RFC 6238', () => {
  const key = Buffer.from('12345678901234567890');
  for (const [seconds, code] of [
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ]) {
    assert.equal(totpAt(key, stepAt(seconds * 1000)), code, `T=${seconds}`);
  }
  assert.equal(totpAt('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ', 1), '287082', 'from base32, spaces ignored');
});
