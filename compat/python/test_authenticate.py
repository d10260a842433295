"""Sign-in through POST /user_management/authenticate: the password grant
(unscoped, scoped to the only organization, organization selection), the
organization-selection grant, the refresh-token grant (rotation, switching
organization, reuse) and the access-token claims, verified against the
published JWKS the way the SDK does it."""

from __future__ import annotations

import pytest
from workos import AuthenticationError, BadRequestError, WorkOSClient, create_public_client
from workos._errors import OrganizationSelectionRequiredError
from workos.organizations import OrganizationDomainData

from support import (
    API_KEY,
    CLIENT_ID,
    MISSING_CLIENT,
    MISSING_ORG,
    PLAIN_PASSWORD,
    PORTICO_URL,
    assert_access_token,
    assert_has_permissions,
    assert_unscoped,
    create_password_user,
    expect_error,
    grant_admin_permissions,
    make_client,
    note,
    raw_create_membership,
    uid,
    unique_domain,
    unique_email,
)


@pytest.fixture(scope="module")
def world(workos):
    """Organizations A and B (B created first: the selection list must be
    sorted by name), C without members; users without / with one / with two
    memberships; two permissions on the `admin` environment role."""
    u = uid(3)
    perms = grant_admin_permissions(workos, "py-compat-auth")
    org_b = workos.organizations.create_organization(
        name=f"Py Auth B {u}",
        domain_data=[OrganizationDomainData(domain=unique_domain("authb"), state="verified")],
    )
    org_a = workos.organizations.create_organization(
        name=f"Py Auth A {u}",
        domain_data=[OrganizationDomainData(domain=unique_domain("autha"), state="verified")],
    )
    org_c = workos.organizations.create_organization(name=f"Py Auth C {u}")
    solo = create_password_user(workos, "solo")
    single = create_password_user(workos, "single")
    multi = create_password_user(workos, "multi")
    raw_create_membership(single.id, org_a.id, role_slug="admin")
    raw_create_membership(multi.id, org_a.id, role_slug="admin")
    raw_create_membership(multi.id, org_b.id)
    return {
        "perms": perms,
        "org_a": org_a,
        "org_b": org_b,
        "org_c": org_c,
        "solo": solo,
        "single": single,
        "multi": multi,
    }


def password_sign_in(workos, user):
    return workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)


def refresh(workos, refresh_token, organization_id=None):
    return workos.user_management.authenticate_with_refresh_token(
        refresh_token=refresh_token, organization_id=organization_id
    )


# ---- password grant ------------------------------------------------------------


def test_password_without_memberships_is_unscoped(workos, world):
    solo = world["solo"]
    res = password_sign_in(workos, solo)
    assert res.user.id == solo.id
    assert res.user.email == solo.email
    assert res.organization_id is None
    assert res.authentication_method is not None and res.authentication_method.value == "Password"
    assert isinstance(res.refresh_token, str) and len(res.refresh_token) >= 20
    claims = assert_access_token(workos, res.access_token, user_id=solo.id)
    assert_unscoped(claims)


def test_password_with_one_membership_is_scoped(workos, world):
    single, org_a = world["single"], world["org_a"]
    res = password_sign_in(workos, single)
    assert res.user.id == single.id
    assert res.organization_id == org_a.id
    claims = assert_access_token(workos, res.access_token, user_id=single.id)
    assert claims["org_id"] == org_a.id
    assert claims["role"] == "admin"
    assert claims["roles"] == ["admin"]
    assert_has_permissions(claims.get("permissions"), world["perms"])
    assert workos.user_management.get_user(single.id).last_sign_in_at is not None


def test_wrong_password_is_bad_request(workos_no_retry, world):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(
            email=world["single"].email, password=PLAIN_PASSWORD + "-wrong"
        ),
        BadRequestError,
        400,
    )
    assert type(err) is BadRequestError
    assert err.code == "invalid_credentials"
    note(f"python: wrong password -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_unknown_email_is_the_same_error(workos_no_retry):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(
            email=unique_email("nobody"), password=PLAIN_PASSWORD
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_credentials"


def test_wrong_api_key_as_client_secret(world):
    bad = make_client(api_key=f"sk_test_wrong_{uid()}", max_retries=0)
    err = expect_error(lambda: password_sign_in(bad, world["single"]), AuthenticationError, 401)
    note(f"python: wrong client_secret -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_unknown_client_id(world):
    bad = WorkOSClient(api_key=API_KEY, client_id=MISSING_CLIENT, base_url=f"{PORTICO_URL}/", max_retries=0)
    try:
        expect_error(lambda: password_sign_in(bad, world["single"]), AuthenticationError, 401)
    finally:
        bad.close()


# ---- organization selection ------------------------------------------------------


@pytest.fixture(scope="module")
def selection(workos_no_retry, world):
    """The organization_selection_required error of the two-membership user."""
    with pytest.raises(OrganizationSelectionRequiredError) as info:
        password_sign_in(workos_no_retry, world["multi"])
    return info.value


def test_several_memberships_require_organization_selection(selection, world):
    err = selection
    assert err.status_code == 403
    assert err.code == "organization_selection_required"
    assert isinstance(err.pending_authentication_token, str) and err.pending_authentication_token
    org_a, org_b = world["org_a"], world["org_b"]
    assert err.organizations == [
        {"id": org_a.id, "name": org_a.name},
        {"id": org_b.id, "name": org_b.name},
    ]
    assert err.user is not None and err.user["id"] == world["multi"].id
    assert err.user["object"] == "user"
    note(f"python: organization selection -> {type(err).__name__} (HTTP {err.status_code}): {err}")


@pytest.fixture(scope="module")
def multi_session(workos, workos_no_retry, selection, world):
    """multi's session after selecting organization B (a non-member organization
    is tried first: that must fail without consuming the pending token)."""
    token = selection.pending_authentication_token
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_organization_selection(
            pending_authentication_token=token, organization_id=world["org_c"].id
        ),
        BadRequestError,
        400,
    )
    assert err.error == "organization_membership_not_found", err
    note(f"python: selection of a non-member organization -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    res = workos.user_management.authenticate_with_organization_selection(
        pending_authentication_token=token, organization_id=world["org_b"].id
    )
    claims = assert_access_token(workos, res.access_token, user_id=world["multi"].id)
    return {"res": res, "claims": claims, "refresh_token": res.refresh_token, "sid": claims["sid"], "pending": token}


def test_organization_selection_scopes_to_the_chosen_organization(multi_session, world):
    res, claims = multi_session["res"], multi_session["claims"]
    assert res.user.id == world["multi"].id
    assert res.organization_id == world["org_b"].id
    assert claims["org_id"] == world["org_b"].id
    assert claims["role"] == "member"
    assert claims["roles"] == ["member"]


def test_pending_authentication_token_is_single_use(workos_no_retry, multi_session, world):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_organization_selection(
            pending_authentication_token=multi_session["pending"], organization_id=world["org_a"].id
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_pending_authentication_token"
    note(f"python: reused pending token -> {type(err).__name__} (HTTP {err.status_code}): {err}")


# ---- refresh-token grant -----------------------------------------------------------


def test_refresh_rotates_and_keeps_the_session(workos, multi_session, world):
    old = multi_session["refresh_token"]
    res = refresh(workos, old)
    assert res.refresh_token != old
    assert res.organization_id == world["org_b"].id
    claims = assert_access_token(workos, res.access_token, user_id=world["multi"].id, session_id=multi_session["sid"])
    assert claims["org_id"] == world["org_b"].id
    multi_session["refresh_token"] = res.refresh_token


def test_refresh_switches_organization(workos, multi_session, world):
    res = refresh(workos, multi_session["refresh_token"], organization_id=world["org_a"].id)
    assert res.organization_id == world["org_a"].id
    claims = assert_access_token(workos, res.access_token, user_id=world["multi"].id, session_id=multi_session["sid"])
    assert claims["org_id"] == world["org_a"].id
    assert claims["role"] == "admin"
    assert claims["roles"] == ["admin"]
    assert_has_permissions(claims.get("permissions"), world["perms"])
    multi_session["refresh_token"] = res.refresh_token


def test_refresh_into_a_non_member_organization_is_refused(workos, workos_no_retry, multi_session, world):
    for organization_id in (world["org_c"].id, MISSING_ORG):
        err = expect_error(
            lambda: refresh(workos_no_retry, multi_session["refresh_token"], organization_id=organization_id),
            BadRequestError,
            400,
        )
        assert err.error == "organization_membership_not_found", err
    note(f"python: refresh into a non-member organization -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    # The token was not consumed.
    res = refresh(workos, multi_session["refresh_token"])
    assert res.organization_id == world["org_a"].id
    multi_session["refresh_token"] = res.refresh_token


def test_public_client_refresh(workos, multi_session, world):
    public = create_public_client(client_id=CLIENT_ID, base_url=f"{PORTICO_URL}/")
    try:
        res = refresh(public, multi_session["refresh_token"])
    finally:
        public.close()
    assert res.refresh_token != multi_session["refresh_token"]
    assert_access_token(workos, res.access_token, user_id=world["multi"].id, session_id=multi_session["sid"])
    multi_session["refresh_token"] = res.refresh_token


def test_refresh_token_reuse_revokes_the_session(workos, workos_no_retry, world):
    t0 = password_sign_in(workos, world["solo"]).refresh_token
    t1 = refresh(workos, t0).refresh_token
    t2 = refresh(workos, t1).refresh_token
    err = expect_error(lambda: refresh(workos_no_retry, t0), BadRequestError, 400)
    assert err.error == "invalid_grant", err
    note(f"python: refresh token reuse -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    err = expect_error(lambda: refresh(workos_no_retry, t2), BadRequestError, 400)
    assert err.error == "invalid_grant", "the newest token of a revoked session is dead too"


def test_unknown_refresh_token(workos_no_retry):
    err = expect_error(lambda: refresh(workos_no_retry, f"not-a-token-{uid()}"), BadRequestError, 400)
    assert err.error == "invalid_grant"


def test_previous_refresh_token_replay_is_honoured_once(workos, workos_no_retry, world):
    t0 = password_sign_in(workos, world["solo"]).refresh_token
    first = refresh(workos, t0)
    replay = refresh(workos, t0)
    sid = assert_access_token(workos, first.access_token, user_id=world["solo"].id)["sid"]
    assert_access_token(workos, replay.access_token, user_id=world["solo"].id, session_id=sid)
    err = expect_error(lambda: refresh(workos_no_retry, t0), BadRequestError, 400)
    assert err.error == "invalid_grant", "a second replay is refused"


def test_too_many_sign_ins_for_one_email_are_rate_limited(workos_no_retry):
    from workos._errors import RateLimitExceededError

    email = unique_email("limited")
    for _ in range(10):
        expect_error(
            lambda: workos_no_retry.user_management.authenticate_with_password(email=email, password=PLAIN_PASSWORD),
            BadRequestError,
            400,
        )
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(email=email, password=PLAIN_PASSWORD),
        RateLimitExceededError,
        429,
    )
    assert err.retry_after is not None and 1 <= float(err.retry_after) <= 60, err.retry_after
    note(f"python: 11th sign-in for one email in a minute -> {type(err).__name__} (retry_after={err.retry_after})")
