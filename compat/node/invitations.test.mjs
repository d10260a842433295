// Invitations: sendInvitation (organization with a role, or the environment),
// getInvitation, findInvitationByToken, listInvitations (auto-paginated, by
// organization and by email), revokeInvitation, resendInvitation (a new
// token), acceptInvitation (the membership with the invited role) and the
// refusals (duplicate, already a member, unknown role, not pending).

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
  expectClientError,
  expectExactSdkError,
  assertAccessToken,
  createPasswordUser,
  createUnverifiedUser,
  PLAIN_PASSWORD,
  PORTICO_URL,
} from './lib/harness.mjs';

const MISSING_ORG = 'org_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const MISSING_INVITATION = 'invitation_01HZZZZZZZZZZZZZZZZZZZZZZZ';
const DAY_MS = 24 * 3600_000;

function assertInvitation(inv, what = 'invitation') {
  assert.equal(inv.object, 'invitation', `${what}.object`);
  assert.match(inv.id, idPattern('invitation'), `${what}.id`);
  assert.ok(['pending', 'accepted', 'expired', 'revoked'].includes(inv.state), `${what}.state ${inv.state}`);
  for (const key of ['acceptedAt', 'revokedAt']) {
    assert.ok(inv[key] === null || ISO_MS.test(inv[key]), `${what}.${key} is null or a timestamp: ${inv[key]}`);
  }
  for (const key of ['organizationId', 'inviterUserId', 'acceptedUserId', 'roleSlug']) {
    assert.ok(inv[key] === null || typeof inv[key] === 'string', `${what}.${key} is null or a string (not missing)`);
  }
  assert.match(String(inv.expiresAt), ISO_MS, `${what}.expires_at format`);
  assert.equal(typeof inv.token, 'string', `${what}.token`);
  assert.ok(inv.token.length >= 20, `${what}.token is long`);
  assert.ok(inv.acceptInvitationUrl.startsWith(`${PORTICO_URL}/`), `${what}.accept_invitation_url is on the server`);
  assert.ok(inv.acceptInvitationUrl.includes(inv.token), `${what}.accept_invitation_url carries the token`);
  assertTimestamps(inv, what);
}

for (const sdk of SDKS) {
  describe(`invitations (${sdk.label} ${sdk.version})`, () => {
    const workos = client(sdk);
    const um = workos.userManagement;
    const u = uid(3);
    let org;
    let inviter;

    before(async () => {
      org = await workos.organizations.createOrganization({ name: `Invitations ${u}` });
      inviter = await createPasswordUser(workos, 'inviter');
    });

    const email = uniqueEmail('invitee');
    let invitation;

    test('sendInvitation to an organization with a role -> pending Invitation', async () => {
      const before = Date.now();
      invitation = await um.sendInvitation({
        email,
        organizationId: org.id,
        roleSlug: 'admin',
        inviterUserId: inviter.id,
        expiresInDays: 3,
      });
      assertInvitation(invitation);
      assert.equal(invitation.email, email);
      assert.equal(invitation.state, 'pending');
      assert.equal(invitation.acceptedAt, null);
      assert.equal(invitation.revokedAt, null);
      assert.equal(invitation.organizationId, org.id);
      assert.equal(invitation.inviterUserId, inviter.id);
      assert.equal(invitation.acceptedUserId, null);
      assert.equal(invitation.roleSlug, 'admin');
      const ttl = Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt);
      assert.ok(Math.abs(ttl - 3 * DAY_MS) < 60_000, `expires in 3 days, not ${ttl} ms`);
      assert.ok(Date.parse(invitation.createdAt) >= before - 5_000, 'created now');
    });

    test('getInvitation returns it', async () => {
      assert.ok(invitation, 'depends on sendInvitation');
      const got = await um.getInvitation(invitation.id);
      assertInvitation(got);
      assert.deepEqual(got, invitation);
    });

    test('findInvitationByToken finds it', async () => {
      assert.ok(invitation, 'depends on sendInvitation');
      const got = await um.findInvitationByToken(invitation.token);
      assert.equal(got.id, invitation.id);
      assert.equal(got.email, email);
    });

    test('listInvitations by organization (auto-paginated) and by email', async () => {
      assert.ok(invitation, 'depends on sendInvitation');
      const other = await um.sendInvitation({ email: uniqueEmail('invitee-other'), organizationId: org.id });
      const byOrg = await (await um.listInvitations({ organizationId: org.id })).autoPagination();
      byOrg.forEach((inv) => assertInvitation(inv));
      assert.deepEqual(byOrg.map((i) => i.id).sort(), [invitation.id, other.id].sort());
      assert.ok(byOrg.every((i) => i.organizationId === org.id));
      const byEmail = await (await um.listInvitations({ email })).autoPagination();
      assert.deepEqual(byEmail.map((i) => i.id), [invitation.id]);
    });

    test('a second pending invitation for the same email and organization -> BadRequestException', async (t) => {
      assert.ok(invitation, 'depends on sendInvitation');
      const err = await expectSdkError(
        sdk,
        um.sendInvitation({ email, organizationId: org.id }),
        'BadRequestException',
        400,
      );
      t.diagnostic(`duplicate invitation -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('an unknown role -> UnprocessableEntityException', async () => {
      await expectSdkError(
        sdk,
        um.sendInvitation({ email: uniqueEmail('invitee-role'), organizationId: org.id, roleSlug: `no-such-role-${u}` }),
        'UnprocessableEntityException',
        422,
      );
    });

    test('expiresInDays outside 1..30 -> UnprocessableEntityException', async () => {
      for (const expiresInDays of [0, 31]) {
        await expectSdkError(
          sdk,
          um.sendInvitation({ email: uniqueEmail('invitee-days'), organizationId: org.id, expiresInDays }),
          'UnprocessableEntityException',
          422,
        );
      }
    });

    test('an unknown organization -> NotFoundException', async () => {
      await expectSdkError(
        sdk,
        um.sendInvitation({ email: uniqueEmail('invitee-org'), organizationId: MISSING_ORG }),
        'NotFoundException',
        404,
      );
    });

    test('inviting a member of the organization -> BadRequestException', async (t) => {
      const member = await createPasswordUser(workos, 'invitee-member');
      await um.createOrganizationMembership({ organizationId: org.id, userId: member.id });
      const err = await expectSdkError(
        sdk,
        um.sendInvitation({ email: member.email, organizationId: org.id }),
        'BadRequestException',
        400,
      );
      t.diagnostic(`already a member -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
    });

    test('an environment invitation has no organization and no role', async () => {
      const inv = await um.sendInvitation({ email: uniqueEmail('invitee-env') });
      assertInvitation(inv);
      assert.equal(inv.state, 'pending');
      assert.equal(inv.organizationId, null);
      assert.equal(inv.roleSlug, null);
      assert.equal(inv.inviterUserId, null);
      const ttl = Date.parse(inv.expiresAt) - Date.parse(inv.createdAt);
      assert.ok(Math.abs(ttl - 7 * DAY_MS) < 60_000, `expires in 7 days by default, not ${ttl} ms`);
    });

    test('resendInvitation issues a new token; the old one is no longer found', async () => {
      const inv = await um.sendInvitation({ email: uniqueEmail('invitee-resend'), organizationId: org.id });
      const resent = await um.resendInvitation(inv.id);
      assertInvitation(resent);
      assert.equal(resent.id, inv.id);
      assert.equal(resent.state, 'pending');
      assert.notEqual(resent.token, inv.token);
      assert.notEqual(resent.acceptInvitationUrl, inv.acceptInvitationUrl);
      assert.ok(Date.parse(resent.expiresAt) >= Date.parse(inv.expiresAt), 'the expiry is renewed');
      assert.equal((await um.findInvitationByToken(resent.token)).id, inv.id);
      await expectSdkError(sdk, um.findInvitationByToken(inv.token), 'NotFoundException', 404);
    });

    test('revokeInvitation -> revoked; revoking again -> BadRequestException', async (t) => {
      const inv = await um.sendInvitation({ email: uniqueEmail('invitee-revoke'), organizationId: org.id });
      const revoked = await um.revokeInvitation(inv.id);
      assertInvitation(revoked);
      assert.equal(revoked.id, inv.id);
      assert.equal(revoked.state, 'revoked');
      assert.match(String(revoked.revokedAt), ISO_MS);
      assert.equal(revoked.acceptedAt, null);
      assert.equal((await um.getInvitation(inv.id)).state, 'revoked');
      const err = await expectSdkError(sdk, um.revokeInvitation(inv.id), 'BadRequestException', 400);
      t.diagnostic(`revoke twice -> ${err.name} (HTTP ${err.status}, code ${err.code}): ${err.message}`);
      const { className } = await expectClientError(sdk, um.resendInvitation(inv.id));
      t.diagnostic(`resend a revoked invitation -> ${className}`);
    });

    test('acceptInvitation for the existing user makes the membership with the invited role', async () => {
      const user = await createPasswordUser(workos, 'invitee-accept');
      const inv = await um.sendInvitation({ email: user.email, organizationId: org.id, roleSlug: 'admin' });
      const accepted = await um.acceptInvitation(inv.id);
      assertInvitation(accepted);
      assert.equal(accepted.id, inv.id);
      assert.equal(accepted.state, 'accepted');
      assert.match(String(accepted.acceptedAt), ISO_MS);
      assert.equal(accepted.acceptedUserId, user.id);
      assert.equal(accepted.revokedAt, null);
      const memberships = (await um.listOrganizationMemberships({ userId: user.id, organizationId: org.id })).data;
      assert.equal(memberships.length, 1);
      assert.equal(memberships[0].status, 'active');
      assert.equal(memberships[0].role.slug, 'admin');
      await expectSdkError(sdk, um.acceptInvitation(inv.id), 'BadRequestException', 400);
    });

    test('acceptInvitation when nobody has the email yet -> BadRequestException', async () => {
      const inv = await um.sendInvitation({ email: uniqueEmail('invitee-nobody'), organizationId: org.id });
      await expectSdkError(sdk, um.acceptInvitation(inv.id), 'BadRequestException', 400);
      assert.equal((await um.getInvitation(inv.id)).state, 'pending');
    });

    test('authenticateWithPassword with invitationToken accepts it and scopes the session there', async () => {
      const user = await createUnverifiedUser(workos, 'invitee-password');
      const inv = await um.sendInvitation({ email: user.email, organizationId: org.id, roleSlug: 'admin' });
      const res = await um.authenticateWithPassword({
        email: user.email,
        password: PLAIN_PASSWORD,
        invitationToken: inv.token,
      });
      assert.equal(res.user.id, user.id);
      assert.equal(res.user.emailVerified, true, 'the invitation email proved the address');
      assert.equal(res.organizationId, org.id);
      const claims = await assertAccessToken(workos, res.accessToken, { userId: user.id });
      assert.equal(claims.org_id, org.id);
      assert.equal(claims.role, 'admin');
      const after = await um.getInvitation(inv.id);
      assert.equal(after.state, 'accepted');
      assert.equal(after.acceptedUserId, user.id);
    });

    test('authenticateWithMagicAuth with invitationToken accepts it', async () => {
      const invitee = uniqueEmail('invitee-magic');
      const inv = await um.sendInvitation({ email: invitee, organizationId: org.id });
      const { code } = await um.createMagicAuth({ email: invitee });
      const res = await um.authenticateWithMagicAuth({ code, email: invitee, invitationToken: inv.token });
      assert.equal(res.user.email, invitee);
      assert.equal(res.organizationId, org.id);
      assert.equal(res.authenticationMethod, 'MagicAuth');
      assert.equal((await um.getInvitation(inv.id)).state, 'accepted');
    });

    test("an invitation token for someone else's address -> OauthException invitation_invalid", async (t) => {
      const user = await createPasswordUser(workos, 'invitee-wrong');
      const inv = await um.sendInvitation({ email: uniqueEmail('invitee-else'), organizationId: org.id });
      const err = await expectExactSdkError(
        sdk,
        um.authenticateWithPassword({ email: user.email, password: PLAIN_PASSWORD, invitationToken: inv.token }),
        'OauthException',
        400,
      );
      assert.equal(err.error, 'invitation_invalid');
      assert.equal((await um.getInvitation(inv.id)).state, 'pending');
      t.diagnostic(`invitation for another address -> ${err.name} (HTTP ${err.status}, error ${err.error})`);
    });

    test('getInvitation / findInvitationByToken of unknown ones -> NotFoundException', async () => {
      await expectSdkError(sdk, um.getInvitation(MISSING_INVITATION), 'NotFoundException', 404);
      await expectSdkError(sdk, um.findInvitationByToken(`no-such-token-${u}`), 'NotFoundException', 404);
    });
  });
}
