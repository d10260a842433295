"""Email verification: a password sign-in of an unverified user raises
EmailVerificationRequiredError (HTTP 403) and emails a code; the
email-verification grant finishes it. Also the email verification API:
get_email_verification, send_verification_email and verify_email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workos import BadRequestError, NotFoundError
from workos._errors import EmailVerificationRequiredError, OrganizationSelectionRequiredError

from support import (
    MISSING_USER,
    PLAIN_PASSWORD,
    assert_access_token,
    assert_unscoped,
    create_unverified_user,
    expect_error,
    id_pattern,
    mailed_code,
    note,
    other_code,
    raw_create_membership,
    uid,
)

MISSING_EMAIL_VERIFICATION = "email_verification_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def assert_email_verification(ev, user):
    assert ev.object == "email_verification"
    assert id_pattern("email_verification").match(ev.id), ev.id
    assert ev.user_id == user.id
    assert ev.email == user.email
    assert isinstance(ev.code, str) and len(ev.code) == 6 and ev.code.isdigit(), ev.code
    assert timedelta(minutes=5) < ev.expires_at - ev.created_at <= timedelta(hours=1)
    assert ev.updated_at >= ev.created_at


def step_up(workos_no_retry, user) -> EmailVerificationRequiredError:
    with pytest.raises(EmailVerificationRequiredError) as info:
        workos_no_retry.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    return info.value


@pytest.fixture(scope="module")
def world(workos):
    u = uid(3)
    org = workos.organizations.create_organization(name=f"Py Verify {u}")
    org_a = workos.organizations.create_organization(name=f"Py Verify A {u}")
    org_b = workos.organizations.create_organization(name=f"Py Verify B {u}")
    member = create_unverified_user(workos, "verify-member")
    solo = create_unverified_user(workos, "verify-solo")
    multi = create_unverified_user(workos, "verify-multi")
    raw_create_membership(member.id, org.id, role_slug="admin")
    raw_create_membership(multi.id, org_a.id)
    raw_create_membership(multi.id, org_b.id)
    return {"org": org, "org_a": org_a, "org_b": org_b, "member": member, "solo": solo, "multi": multi}


@pytest.fixture(scope="module")
def required(workos_no_retry, world):
    """The email_verification_required error of `member`."""
    return step_up(workos_no_retry, world["member"])


@pytest.fixture(scope="module")
def emailed(workos, required):
    return workos.user_management.get_email_verification(required.email_verification_id)


# ---- the step-up on sign-in -------------------------------------------------------


def test_unverified_sign_in_raises_email_verification_required(required, world):
    err = required
    assert type(err) is EmailVerificationRequiredError
    assert err.status_code == 403
    assert err.code == "email_verification_required"
    assert isinstance(err.pending_authentication_token, str) and err.pending_authentication_token
    assert err.email == world["member"].email
    assert id_pattern("email_verification").match(err.email_verification_id or ""), err.email_verification_id
    user = err.response_json["user"]
    assert user["object"] == "user" and user["id"] == world["member"].id
    assert user["email_verified"] is False
    note(f"python: email verification required -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_get_email_verification_returns_the_emailed_code(emailed, required, world):
    assert emailed.id == required.email_verification_id
    assert_email_verification(emailed, world["member"])
    assert mailed_code(world["member"].email).code == emailed.code


def test_wrong_code_is_bad_request_and_keeps_the_pending_token(workos_no_retry, required, emailed):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_email_verification(
            code=other_code(emailed.code), pending_authentication_token=required.pending_authentication_token
        ),
        BadRequestError,
        400,
    )
    assert type(err) is BadRequestError
    assert err.code == "invalid_one_time_code"
    note(f"python: wrong verification code -> {type(err).__name__} (HTTP {err.status_code}): {err}")


@pytest.fixture(scope="module")
def verified_session(workos, required, emailed):
    return workos.user_management.authenticate_with_email_verification(
        code=emailed.code, pending_authentication_token=required.pending_authentication_token
    )


def test_authenticate_with_email_verification_signs_in(workos, verified_session, world):
    res = verified_session
    assert res.user.id == world["member"].id
    assert res.user.email_verified is True
    assert res.authentication_method is not None and res.authentication_method.value == "Password"
    assert res.organization_id == world["org"].id
    claims = assert_access_token(workos, res.access_token, user_id=world["member"].id)
    assert claims["org_id"] == world["org"].id
    assert claims["role"] == "admin"
    assert workos.user_management.get_user(world["member"].id).email_verified is True


def test_pending_token_is_single_use(workos_no_retry, verified_session, required, emailed):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_email_verification(
            code=emailed.code, pending_authentication_token=required.pending_authentication_token
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_pending_authentication_token"


def test_verified_user_signs_in_with_the_password_alone(workos, verified_session, world):
    res = workos.user_management.authenticate_with_password(email=world["member"].email, password=PLAIN_PASSWORD)
    assert res.user.id == world["member"].id
    assert res.organization_id == world["org"].id


def test_unknown_pending_token(workos_no_retry):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_email_verification(
            code="123456", pending_authentication_token=f"nope-{uid()}"
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_pending_authentication_token"


def test_without_memberships_the_session_is_unscoped(workos, workos_no_retry, world):
    err = step_up(workos_no_retry, world["solo"])
    code = workos.user_management.get_email_verification(err.email_verification_id).code
    res = workos.user_management.authenticate_with_email_verification(
        code=code, pending_authentication_token=err.pending_authentication_token
    )
    assert res.user.id == world["solo"].id
    assert res.organization_id is None
    assert_unscoped(assert_access_token(workos, res.access_token, user_id=world["solo"].id))


def test_verification_then_organization_selection(workos, workos_no_retry, world):
    first = step_up(workos_no_retry, world["multi"])
    code = workos.user_management.get_email_verification(first.email_verification_id).code
    with pytest.raises(OrganizationSelectionRequiredError) as info:
        workos_no_retry.user_management.authenticate_with_email_verification(
            code=code, pending_authentication_token=first.pending_authentication_token
        )
    second = info.value
    assert sorted(o["id"] for o in second.organizations) == sorted([world["org_a"].id, world["org_b"].id])
    res = workos.user_management.authenticate_with_organization_selection(
        pending_authentication_token=second.pending_authentication_token, organization_id=world["org_b"].id
    )
    assert res.organization_id == world["org_b"].id
    assert res.user.email_verified is True


# ---- the email verification API ------------------------------------------------------


def test_verify_email(workos, workos_no_retry):
    user = create_unverified_user(workos, "verify-api")
    err = step_up(workos_no_retry, user)
    code = workos.user_management.get_email_verification(err.email_verification_id).code
    wrong = expect_error(
        lambda: workos_no_retry.user_management.verify_email(user.id, code=other_code(code)), BadRequestError, 400
    )
    assert wrong.code == "invalid_one_time_code"
    res = workos.user_management.verify_email(user.id, code=code)
    assert res.user.id == user.id
    assert res.user.email_verified is True
    assert workos.user_management.get_user(user.id).email_verified is True
    reused = expect_error(lambda: workos_no_retry.user_management.verify_email(user.id, code=code), BadRequestError, 400)
    assert reused.code == "one_time_code_previously_used"


def test_send_verification_email(workos, workos_no_retry):
    user = create_unverified_user(workos, "verify-send")
    err = step_up(workos_no_retry, user)
    first = workos.user_management.get_email_verification(err.email_verification_id)
    first_mail = mailed_code(user.email)
    sent = workos.user_management.send_verification_email(user.id)
    assert sent.user.id == user.id
    assert sent.user.email == user.email
    assert sent.user.email_verified is False
    mail = mailed_code(user.email, not_ids=(first_mail.id,))
    if mail.code != first.code:
        stale = expect_error(
            lambda: workos_no_retry.user_management.verify_email(user.id, code=first.code), BadRequestError, 400
        )
        assert stale.code == "invalid_one_time_code", "the replaced code no longer works"
    res = workos.user_management.verify_email(user.id, code=mail.code)
    assert res.user.email_verified is True


def test_unknown_user_and_unknown_verification(workos_no_retry):
    um = workos_no_retry.user_management
    expect_error(lambda: um.send_verification_email(MISSING_USER), NotFoundError, 404)
    expect_error(lambda: um.verify_email(MISSING_USER, code="123456"), NotFoundError, 404)
    expect_error(lambda: um.get_email_verification(MISSING_EMAIL_VERIFICATION), NotFoundError, 404)

