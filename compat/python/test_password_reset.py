"""Password reset: reset_password (creates the reset: token and URL),
get_password_reset, confirm_password_reset (the new password works and the
old one does not, the token is single use, weak passwords are refused, the
email counts as verified, the user's sessions end)."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta

import pytest
from workos import BadRequestError, NotFoundError, UnprocessableEntityError

from support import (
    PLAIN_PASSWORD,
    PORTICO_URL,
    assert_access_token,
    create_password_user,
    create_unverified_user,
    expect_error,
    id_pattern,
    note,
    unique_email,
)

NEW_PASSWORD = "Brand-New-Passw0rd-42!"
MISSING_PASSWORD_RESET = "password_reset_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def assert_password_reset(reset, user):
    assert reset.object == "password_reset"
    assert id_pattern("password_reset").match(reset.id), reset.id
    assert reset.user_id == user.id
    assert reset.email == user.email
    assert isinstance(reset.password_reset_token, str) and len(reset.password_reset_token) >= 20
    assert reset.password_reset_url.startswith(f"{PORTICO_URL}/"), reset.password_reset_url
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(reset.password_reset_url).query))
    assert query.get("token") == reset.password_reset_token
    assert timedelta(minutes=10) <= reset.expires_at - reset.created_at <= timedelta(hours=24)


@pytest.fixture(scope="module")
def ctx(workos):
    user = create_password_user(workos, "reset")
    session = workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    reset = workos.user_management.reset_password(email=user.email)
    return {"user": user, "refresh_token": session.refresh_token, "reset": reset}


def test_reset_password_creates_a_reset(ctx):
    assert_password_reset(ctx["reset"], ctx["user"])


def test_get_password_reset(workos, ctx):
    reset = ctx["reset"]
    got = workos.user_management.get_password_reset(reset.id)
    assert_password_reset(got, ctx["user"])
    assert (got.id, got.password_reset_token, got.password_reset_url) == (
        reset.id,
        reset.password_reset_token,
        reset.password_reset_url,
    )
    assert got.expires_at == reset.expires_at
    assert got.created_at == reset.created_at


def test_unknown_email_is_not_found(workos_no_retry):
    expect_error(
        lambda: workos_no_retry.user_management.reset_password(email=unique_email("reset-nobody")), NotFoundError, 404
    )


def test_weak_password_is_refused_and_the_token_kept(workos_no_retry, ctx):
    err = expect_error(
        lambda: workos_no_retry.user_management.confirm_password_reset(
            token=ctx["reset"].password_reset_token, new_password="short"
        ),
        UnprocessableEntityError,
        422,
    )
    note(f"python: weak password -> {type(err).__name__} (HTTP {err.status_code}): {err}")


@pytest.fixture(scope="module")
def confirmed(workos, ctx):
    return workos.user_management.confirm_password_reset(token=ctx["reset"].password_reset_token, new_password=NEW_PASSWORD)


def test_confirm_password_reset_changes_the_password(workos, workos_no_retry, ctx, confirmed):
    user = ctx["user"]
    assert confirmed.user.id == user.id
    assert confirmed.user.email_verified is True
    res = workos.user_management.authenticate_with_password(email=user.email, password=NEW_PASSWORD)
    assert res.user.id == user.id
    assert_access_token(workos, res.access_token, user_id=user.id)
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_credentials"


def test_the_reset_ended_earlier_sessions(workos_no_retry, ctx, confirmed):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_refresh_token(refresh_token=ctx["refresh_token"]),
        BadRequestError,
        400,
    )
    assert err.error == "invalid_grant", err


def test_the_token_is_single_use(workos_no_retry, ctx, confirmed):
    err = expect_error(
        lambda: workos_no_retry.user_management.confirm_password_reset(
            token=ctx["reset"].password_reset_token, new_password=NEW_PASSWORD + "-again"
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_grant", err
    note(f"python: reused reset token -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_unknown_token(workos_no_retry):
    err = expect_error(
        lambda: workos_no_retry.user_management.confirm_password_reset(token="not-a-reset-token", new_password=NEW_PASSWORD),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_grant", err


def test_a_reset_verifies_the_email(workos):
    user = create_unverified_user(workos, "reset-unverified")
    reset = workos.user_management.reset_password(email=user.email)
    res = workos.user_management.confirm_password_reset(token=reset.password_reset_token, new_password=NEW_PASSWORD)
    assert res.user.email_verified is True
    signed_in = workos.user_management.authenticate_with_password(email=user.email, password=NEW_PASSWORD)
    assert signed_in.user.id == user.id
    assert signed_in.user.email_verified is True


def test_unknown_password_reset(workos_no_retry):
    expect_error(lambda: workos_no_retry.user_management.get_password_reset(MISSING_PASSWORD_RESET), NotFoundError, 404)
