"""Invitations: send_invitation (organization with a role, or the
environment), get_invitation, find_invitation_by_token, list_invitations
(auto-paginated, by organization and by email), revoke_invitation,
resend_invitation (a new token), accept_invitation (the membership with the
invited role) and the refusals (duplicate, already a member, unknown role,
not pending). The SDK parses every Invitation strictly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from workos import BadRequestError, NotFoundError, UnprocessableEntityError

from support import (
    MISSING_ORG,
    PLAIN_PASSWORD,
    PORTICO_URL,
    assert_access_token,
    create_password_user,
    create_unverified_user,
    expect_client_error,
    expect_error,
    id_pattern,
    note,
    raw_create_membership,
    uid,
    unique_email,
)

MISSING_INVITATION = "invitation_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def assert_invitation(inv):
    assert inv.object == "invitation"
    assert id_pattern("invitation").match(inv.id), inv.id
    assert inv.state.value in ("pending", "accepted", "expired", "revoked"), inv.state
    assert isinstance(inv.token, str) and len(inv.token) >= 20
    assert inv.accept_invitation_url.startswith(f"{PORTICO_URL}/"), inv.accept_invitation_url
    assert inv.token in inv.accept_invitation_url
    assert inv.updated_at >= inv.created_at


@pytest.fixture(scope="module")
def ctx(workos):
    org = workos.organizations.create_organization(name=f"Py Invitations {uid(3)}")
    inviter = create_password_user(workos, "inviter")
    return {"org": org, "inviter": inviter, "email": unique_email("invitee")}


@pytest.fixture(scope="module")
def invitation(workos, ctx):
    return workos.user_management.send_invitation(
        email=ctx["email"],
        organization_id=ctx["org"].id,
        role_slug="admin",
        inviter_user_id=ctx["inviter"].id,
        expires_in_days=3,
    )


def test_send_invitation(invitation, ctx):
    inv = invitation
    assert_invitation(inv)
    assert inv.email == ctx["email"]
    assert inv.state.value == "pending"
    assert inv.accepted_at is None and inv.revoked_at is None
    assert inv.organization_id == ctx["org"].id
    assert inv.inviter_user_id == ctx["inviter"].id
    assert inv.accepted_user_id is None
    assert inv.role_slug == "admin"
    assert abs((inv.expires_at - inv.created_at) - timedelta(days=3)) < timedelta(minutes=1)
    assert abs(inv.created_at - datetime.now(timezone.utc)) < timedelta(minutes=5)


def test_get_invitation(workos, invitation):
    got = workos.user_management.get_invitation(invitation.id)
    assert_invitation(got)
    assert got.to_dict() == invitation.to_dict()


def test_find_invitation_by_token(workos, invitation, ctx):
    got = workos.user_management.find_invitation_by_token(invitation.token)
    assert got.id == invitation.id
    assert got.email == ctx["email"]


def test_list_invitations(workos, invitation, ctx):
    other = workos.user_management.send_invitation(email=unique_email("invitee-other"), organization_id=ctx["org"].id)
    by_org = list(workos.user_management.list_invitations(organization_id=ctx["org"].id).auto_paging_iter())
    for inv in by_org:
        assert_invitation(inv)
    assert sorted(i.id for i in by_org) == sorted([invitation.id, other.id])
    by_email = list(workos.user_management.list_invitations(email=ctx["email"]).auto_paging_iter())
    assert [i.id for i in by_email] == [invitation.id]


def test_duplicate_pending_invitation(workos_no_retry, invitation, ctx):
    err = expect_error(
        lambda: workos_no_retry.user_management.send_invitation(email=ctx["email"], organization_id=ctx["org"].id),
        BadRequestError,
        400,
    )
    note(f"python: duplicate invitation -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_unknown_role(workos_no_retry, ctx):
    expect_error(
        lambda: workos_no_retry.user_management.send_invitation(
            email=unique_email("invitee-role"), organization_id=ctx["org"].id, role_slug=f"no-such-role-{uid(3)}"
        ),
        UnprocessableEntityError,
        422,
    )


@pytest.mark.parametrize("days", [0, 31])
def test_expires_in_days_out_of_range(workos_no_retry, ctx, days):
    expect_error(
        lambda: workos_no_retry.user_management.send_invitation(
            email=unique_email("invitee-days"), organization_id=ctx["org"].id, expires_in_days=days
        ),
        UnprocessableEntityError,
        422,
    )


def test_unknown_organization(workos_no_retry):
    expect_error(
        lambda: workos_no_retry.user_management.send_invitation(
            email=unique_email("invitee-org"), organization_id=MISSING_ORG
        ),
        NotFoundError,
        404,
    )


def test_inviting_a_member(workos, workos_no_retry, ctx):
    member = create_password_user(workos, "invitee-member")
    raw_create_membership(member.id, ctx["org"].id)
    err = expect_error(
        lambda: workos_no_retry.user_management.send_invitation(email=member.email, organization_id=ctx["org"].id),
        BadRequestError,
        400,
    )
    note(f"python: invitation of a member -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_environment_invitation(workos):
    inv = workos.user_management.send_invitation(email=unique_email("invitee-env"))
    assert_invitation(inv)
    assert inv.state.value == "pending"
    assert inv.organization_id is None
    assert inv.role_slug is None
    assert inv.inviter_user_id is None
    assert abs((inv.expires_at - inv.created_at) - timedelta(days=7)) < timedelta(minutes=1)


def test_resend_invitation(workos, workos_no_retry, ctx):
    inv = workos.user_management.send_invitation(email=unique_email("invitee-resend"), organization_id=ctx["org"].id)
    resent = workos.user_management.resend_invitation(inv.id)
    assert_invitation(resent)
    assert resent.id == inv.id
    assert resent.state.value == "pending"
    assert resent.token != inv.token
    assert resent.expires_at >= inv.expires_at
    assert workos.user_management.find_invitation_by_token(resent.token).id == inv.id
    expect_error(lambda: workos_no_retry.user_management.find_invitation_by_token(inv.token), NotFoundError, 404)


def test_revoke_invitation(workos, workos_no_retry, ctx):
    inv = workos.user_management.send_invitation(email=unique_email("invitee-revoke"), organization_id=ctx["org"].id)
    revoked = workos.user_management.revoke_invitation(inv.id)
    assert_invitation(revoked)
    assert revoked.id == inv.id
    assert revoked.state.value == "revoked"
    assert revoked.revoked_at is not None
    assert revoked.accepted_at is None
    assert workos.user_management.get_invitation(inv.id).state.value == "revoked"
    err = expect_error(lambda: workos_no_retry.user_management.revoke_invitation(inv.id), BadRequestError, 400)
    note(f"python: revoke twice -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    err = expect_client_error(lambda: workos_no_retry.user_management.resend_invitation(inv.id))
    note(f"python: resend a revoked invitation -> {type(err).__name__} (HTTP {err.status_code})")


def test_accept_invitation_makes_the_membership(workos, workos_no_retry, ctx):
    user = create_password_user(workos, "invitee-accept")
    inv = workos.user_management.send_invitation(email=user.email, organization_id=ctx["org"].id, role_slug="admin")
    accepted = workos.user_management.accept_invitation(inv.id)
    assert_invitation(accepted)
    assert accepted.id == inv.id
    assert accepted.state.value == "accepted"
    assert accepted.accepted_at is not None
    assert accepted.accepted_user_id == user.id
    assert accepted.revoked_at is None
    page = workos.organization_membership.list_organization_memberships(
        user_id=user.id, organization_id=ctx["org"].id
    )
    assert len(page.data) == 1
    assert page.data[0].status == "active"
    assert page.data[0].role.slug == "admin"
    expect_error(lambda: workos_no_retry.user_management.accept_invitation(inv.id), BadRequestError, 400)


def test_accept_without_an_account(workos, workos_no_retry, ctx):
    inv = workos.user_management.send_invitation(email=unique_email("invitee-nobody"), organization_id=ctx["org"].id)
    expect_error(lambda: workos_no_retry.user_management.accept_invitation(inv.id), BadRequestError, 400)
    assert workos.user_management.get_invitation(inv.id).state.value == "pending"


def test_password_sign_in_with_invitation_token(workos, ctx):
    user = create_unverified_user(workos, "invitee-password")
    inv = workos.user_management.send_invitation(email=user.email, organization_id=ctx["org"].id, role_slug="admin")
    res = workos.user_management.authenticate_with_password(
        email=user.email, password=PLAIN_PASSWORD, invitation_token=inv.token
    )
    assert res.user.id == user.id
    assert res.user.email_verified is True, "the invitation email proved the address"
    assert res.organization_id == ctx["org"].id
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == ctx["org"].id
    assert claims["role"] == "admin"
    after = workos.user_management.get_invitation(inv.id)
    assert after.state.value == "accepted"
    assert after.accepted_user_id == user.id


def test_magic_auth_with_invitation_token(workos, ctx):
    invitee = unique_email("invitee-magic")
    inv = workos.user_management.send_invitation(email=invitee, organization_id=ctx["org"].id)
    code = workos.user_management.create_magic_auth(email=invitee).code
    res = workos.user_management.authenticate_with_magic_auth(code=code, email=invitee, invitation_token=inv.token)
    assert res.user.email == invitee
    assert res.organization_id == ctx["org"].id
    assert workos.user_management.get_invitation(inv.id).state.value == "accepted"


def test_invitation_token_for_another_address(workos, workos_no_retry, ctx):
    user = create_password_user(workos, "invitee-wrong")
    inv = workos.user_management.send_invitation(email=unique_email("invitee-else"), organization_id=ctx["org"].id)
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(
            email=user.email, password=PLAIN_PASSWORD, invitation_token=inv.token
        ),
        BadRequestError,
        400,
    )
    assert err.error == "invitation_invalid", err
    assert workos.user_management.get_invitation(inv.id).state.value == "pending"
    note(f"python: invitation for another address -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_unknown_invitation(workos_no_retry):
    um = workos_no_retry.user_management
    expect_error(lambda: um.get_invitation(MISSING_INVITATION), NotFoundError, 404)
    expect_error(lambda: um.find_invitation_by_token(f"no-such-token-{uid(3)}"), NotFoundError, 404)
