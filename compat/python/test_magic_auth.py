"""Magic Auth: create_magic_auth / get_magic_auth (the six-digit code, an
account made for an unknown address), the magic-auth grant (verifies the
email), the code's refusals (wrong, reused, too many guesses) and the
per-address rate limit on sending codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workos import BadRequestError, NotFoundError, UnprocessableEntityError
from workos._errors import RateLimitExceededError

from support import (
    assert_access_token,
    assert_unscoped,
    create_password_user,
    expect_error,
    id_pattern,
    mailed_code,
    note,
    other_code,
    raw_create_membership,
    uid,
    unique_email,
)

MISSING_MAGIC_AUTH = "magic_auth_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def assert_magic_auth(ma, email):
    assert ma.object == "magic_auth"
    assert id_pattern("magic_auth").match(ma.id), ma.id
    assert id_pattern("user").match(ma.user_id), ma.user_id
    assert ma.email == email
    assert isinstance(ma.code, str) and len(ma.code) == 6 and ma.code.isdigit(), ma.code
    assert timedelta(minutes=5) < ma.expires_at - ma.created_at <= timedelta(hours=1)
    assert ma.updated_at >= ma.created_at


def magic_sign_in(workos, code, email):
    return workos.user_management.authenticate_with_magic_auth(code=code, email=email)


@pytest.fixture(scope="module")
def created(workos):
    email = unique_email("magic-new")
    return {"email": email, "ma": workos.user_management.create_magic_auth(email=email)}


def test_create_magic_auth_for_an_unknown_address(workos, created):
    ma, email = created["ma"], created["email"]
    assert_magic_auth(ma, email)
    user = workos.user_management.get_user(ma.user_id)
    assert user.email == email
    assert user.email_verified is False, "not verified until the code is used"
    assert mailed_code(email).code == ma.code


def test_get_magic_auth(workos, created):
    ma = created["ma"]
    got = workos.user_management.get_magic_auth(ma.id)
    assert_magic_auth(got, created["email"])
    assert (got.id, got.user_id, got.code) == (ma.id, ma.user_id, ma.code)
    assert got.created_at == ma.created_at
    assert got.expires_at == ma.expires_at


def test_wrong_code(workos_no_retry, created):
    err = expect_error(
        lambda: magic_sign_in(workos_no_retry, other_code(created["ma"].code), created["email"]),
        BadRequestError,
        400,
    )
    assert type(err) is BadRequestError
    assert err.code == "invalid_one_time_code"
    note(f"python: wrong magic code -> {type(err).__name__} (HTTP {err.status_code}): {err}")


@pytest.fixture(scope="module")
def signed_in(workos, created):
    return magic_sign_in(workos, created["ma"].code, created["email"])


def test_authenticate_with_magic_auth_verifies_the_email(workos, created, signed_in):
    ma, res = created["ma"], signed_in
    assert res.user.id == ma.user_id
    assert res.user.email == created["email"]
    assert res.user.email_verified is True
    assert res.authentication_method is not None and res.authentication_method.value == "MagicAuth"
    assert res.organization_id is None
    assert_unscoped(assert_access_token(workos, res.access_token, user_id=ma.user_id))
    assert workos.user_management.get_user(ma.user_id).email_verified is True


def test_reused_code(workos_no_retry, created, signed_in):
    err = expect_error(
        lambda: magic_sign_in(workos_no_retry, created["ma"].code, created["email"]), BadRequestError, 400
    )
    assert err.code == "one_time_code_previously_used"
    note(f"python: reused magic code -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_existing_user_is_scoped_to_their_organization(workos):
    org = workos.organizations.create_organization(name=f"Py Magic {uid(3)}")
    user = create_password_user(workos, "magic-existing")
    raw_create_membership(user.id, org.id, role_slug="admin")
    ma = workos.user_management.create_magic_auth(email=user.email)
    assert_magic_auth(ma, user.email)
    assert ma.user_id == user.id
    res = magic_sign_in(workos, ma.code, user.email)
    assert res.user.id == user.id
    assert res.organization_id == org.id
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == org.id
    assert claims["role"] == "admin"


def test_five_wrong_guesses_use_the_code_up(workos, workos_no_retry):
    email = unique_email("magic-guess")
    ma = workos.user_management.create_magic_auth(email=email)
    for i in range(1, 6):
        err = expect_error(lambda: magic_sign_in(workos_no_retry, other_code(ma.code, i), email), BadRequestError, 400)
        assert err.code == "invalid_one_time_code", f"guess {i}"
    err = expect_error(lambda: magic_sign_in(workos_no_retry, ma.code, email), BadRequestError, 400)
    assert err.code == "one_time_code_too_many_attempts", "even the right code is refused now"


def test_code_for_another_address(workos, workos_no_retry):
    ma = workos.user_management.create_magic_auth(email=unique_email("magic-other"))
    err = expect_error(
        lambda: magic_sign_in(workos_no_retry, ma.code, unique_email("magic-nobody")), BadRequestError, 400
    )
    assert err.code == "invalid_one_time_code"


def test_fourth_code_in_a_minute_is_rate_limited(workos_no_retry):
    email = unique_email("magic-limit")
    for _ in range(3):
        workos_no_retry.user_management.create_magic_auth(email=email)
    err = expect_error(
        lambda: workos_no_retry.user_management.create_magic_auth(email=email), RateLimitExceededError, 429
    )
    assert err.retry_after is not None and 1 <= float(err.retry_after) <= 60, err.retry_after
    note(f"python: 4th magic code in a minute -> {type(err).__name__} (retry_after={err.retry_after})")


def test_invalid_email(workos_no_retry):
    expect_error(
        lambda: workos_no_retry.user_management.create_magic_auth(email="not-an-email"), UnprocessableEntityError, 422
    )


def test_unknown_magic_auth(workos_no_retry):
    expect_error(lambda: workos_no_retry.user_management.get_magic_auth(MISSING_MAGIC_AUTH), NotFoundError, 404)
