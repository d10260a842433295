"""Sessions: sealed session cookies (`load_sealed_session(...).authenticate()`
/ `.refresh()`), the browser-facing logout URL, list_sessions (parsed
strictly), revoke_session, and the JWKS through `get_jwks()`."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.fernet import Fernet
from workos import BadRequestError, NotFoundError
from workos._errors import APIError
from workos.organizations import OrganizationDomainData
from workos.session import seal_session_from_auth_response

from support import (
    CLIENT_ID,
    ISO_MS,
    MISSING_CLIENT,
    MISSING_SESSION,
    MISSING_USER,
    PLAIN_PASSWORD,
    PORTICO_URL,
    RETURN_TO_ORIGIN,
    assert_access_token,
    assert_has_permissions,
    create_password_user,
    expect_error,
    get_no_redirect,
    grant_admin_permissions,
    id_pattern,
    note,
    raw_create_membership,
    raw_request,
    uid,
    unique_domain,
)

# The Python SDK seals cookies with Fernet: the cookie password is a Fernet key.
COOKIE_PASSWORD = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def world(workos):
    perms = grant_admin_permissions(workos, "py-compat-sess")
    org = workos.organizations.create_organization(
        name=f"Py Sessions {uid(3)}",
        domain_data=[OrganizationDomainData(domain=unique_domain("sessions"), state="verified")],
    )
    user = create_password_user(workos, "sessions")
    raw_create_membership(user.id, org.id, role_slug="admin")
    return {"perms": perms, "org": org, "user": user}


def sign_in(workos, world):
    """Password sign-in sealed into a session cookie, as an app would do it
    (this SDK version has no `session=` option on authenticate_with_password)."""
    user = world["user"]
    res = workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    sealed = seal_session_from_auth_response(
        access_token=res.access_token,
        refresh_token=res.refresh_token,
        user=res.user.to_dict(),
        impersonator=None,
        cookie_password=COOKIE_PASSWORD,
    )
    return {"res": res, "sid": claims["sid"], "claims": claims, "sealed": sealed}


def load(workos, sealed):
    return workos.user_management.load_sealed_session(session_data=sealed, cookie_password=COOKIE_PASSWORD)


def all_sessions(workos, user_id):
    return list(workos.user_management.list_sessions(user_id, limit=100).auto_paging_iter())


def assert_revoked_in_list(workos, user_id, session_id):
    """After logout / revoke the session is gone from the list or marked revoked."""
    for s in all_sessions(workos, user_id):
        if s.id == session_id:
            assert s.status.value == "revoked", s
            assert s.ended_at is not None, s


# ---- sealed sessions -------------------------------------------------------------


def test_sealed_session_authenticate(workos, world):
    signed = sign_in(workos, world)
    session = load(workos, signed["sealed"])
    auth = session.authenticate()
    # The SDK's Session accepts only user access tokens: a string `sid` and an
    # integer `auth_time` (workos.session._is_user_access_token).
    hint = (
        ""
        if isinstance(signed["claims"].get("auth_time"), int)
        else f" -- the access token has no integer auth_time claim; claims: {sorted(signed['claims'])}"
    )
    assert auth.authenticated is True, f"authenticate(): {auth}{hint}"
    assert auth.session_id == signed["sid"]
    assert auth.organization_id == world["org"].id
    assert auth.role == "admin"
    assert list(auth.roles) == ["admin"]
    assert_has_permissions(list(auth.permissions or []), world["perms"])
    assert auth.user["id"] == world["user"].id
    # The refreshed cookie authenticates too, and the cookie yields the logout URL.
    refreshed = session.refresh()
    assert refreshed.authenticated is True, f"refresh(): {refreshed}"
    again = load(workos, refreshed.sealed_session).authenticate()
    assert again.authenticated is True, f"authenticate() after refresh: {again}"
    assert again.session_id == signed["sid"]
    assert again.organization_id == world["org"].id
    return_to = f"{RETURN_TO_ORIGIN}/bye"
    assert session.get_logout_url(return_to=return_to) == workos.user_management.get_logout_url(
        session_id=signed["sid"], return_to=return_to
    )


def test_sealed_session_refresh(workos, world):
    signed = sign_in(workos, world)
    session = load(workos, signed["sealed"])
    refreshed = session.refresh()
    assert refreshed.authenticated is True, f"refresh(): {refreshed}"
    assert refreshed.sealed_session != signed["sealed"]
    assert refreshed.session_id == signed["sid"], "refresh keeps the session"
    assert refreshed.organization_id == world["org"].id
    assert refreshed.role == "admin"
    assert_has_permissions(list(refreshed.permissions or []), world["perms"])
    assert refreshed.user["id"] == world["user"].id
    # The re-sealed cookie carries a working (rotated) refresh token.
    again = load(workos, refreshed.sealed_session).refresh()
    assert again.authenticated is True, f"second refresh(): {again}"
    assert again.session_id == signed["sid"]


def test_logout_url_redirects_and_ends_the_session(workos, world):
    signed = sign_in(workos, world)
    return_to = f"{RETURN_TO_ORIGIN}/signed-out?from={uid(3)}"
    url = workos.user_management.get_logout_url(session_id=signed["sid"], return_to=return_to)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PORTICO_URL
    assert parts.path == "/user_management/sessions/logout"
    query = parse_qs(parts.query)
    assert query == {"session_id": [signed["sid"]], "return_to": [return_to]}

    res = get_no_redirect(url)
    assert res.status == 302, f"logout answered {res.status}: {res.text}"
    assert res.headers.get("Location") == return_to

    after = load(workos, signed["sealed"]).refresh()
    assert after.authenticated is False, "refresh after logout must fail"
    assert "invalid_grant" in str(after.reason), after.reason
    assert_revoked_in_list(workos, world["user"].id, signed["sid"])


def test_logout_with_foreign_return_to_is_refused(workos, world):
    signed = sign_in(workos, world)
    url = workos.user_management.get_logout_url(
        session_id=signed["sid"], return_to=f"https://evil-{uid(3)}.example.com/"
    )
    res = get_no_redirect(url)
    assert res.status == 422, f"logout answered {res.status}: {res.text}"
    assert "application/json" in (res.headers.get("Content-Type") or "")
    assert load(workos, signed["sealed"]).refresh().authenticated is True, "a refused logout must not revoke"


# ---- list_sessions / revoke_session -----------------------------------------------


def test_list_sessions(workos, world):
    signed = sign_in(workos, world)
    sessions = all_sessions(workos, world["user"].id)
    for s in sessions:
        assert s.object == "session"
        assert id_pattern("session").match(s.id)
        assert s.user_id == world["user"].id
        assert s.auth_method.value == "password"
        assert s.status.value in ("active", "expired", "revoked")
        assert s.expires_at > s.created_at
        assert s.updated_at >= s.created_at
    mine = next((s for s in sessions if s.id == signed["sid"]), None)
    assert mine is not None, f"session {signed['sid']} is listed"
    assert mine.status.value == "active"
    assert mine.ended_at is None
    assert mine.organization_id == world["org"].id
    # Wire format of the timestamps (the SDK parses them into datetimes).
    raw = raw_request("GET", f"/user_management/users/{world['user'].id}/sessions?limit=100")
    assert raw.status == 200
    row = next(r for r in raw.json["data"] if r["id"] == signed["sid"])
    for key in ("expires_at", "created_at", "updated_at"):
        assert ISO_MS.match(row[key]), f"{key}={row[key]}"


def test_revoke_session(workos, workos_no_retry, world):
    signed = sign_in(workos, world)
    workos.user_management.revoke_session(session_id=signed["sid"])
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_refresh_token(
            refresh_token=signed["res"].refresh_token
        ),
        BadRequestError,
        400,
    )
    assert err.error == "invalid_grant", err
    note(f"python: refresh of a revoked session -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    refreshed = load(workos, signed["sealed"]).refresh()
    assert refreshed.authenticated is False
    assert_revoked_in_list(workos, world["user"].id, signed["sid"])


def test_revoke_unknown_session(workos_no_retry):
    # WorkOS does not document this case; record what happens.
    try:
        workos_no_retry.user_management.revoke_session(session_id=MISSING_SESSION)
    except APIError as err:
        assert err.status_code is not None and 400 <= err.status_code < 500, err
        note(f"python: revoke of an unknown session -> {type(err).__name__} (HTTP {err.status_code})")
    else:
        note("python: revoke of an unknown session -> accepted")


def test_list_sessions_of_unknown_user(workos_no_retry):
    expect_error(lambda: workos_no_retry.user_management.list_sessions(MISSING_USER), NotFoundError, 404)


# ---- JWKS ---------------------------------------------------------------------------


def test_get_jwks(workos, world):
    signed = sign_in(workos, world)
    assert workos.user_management.get_jwks_url() == f"{PORTICO_URL}/sso/jwks/{CLIENT_ID}"
    jwks = workos.user_management.get_jwks(CLIENT_ID)
    assert jwks.keys, "at least one key"
    for k in jwks.keys:
        assert (k.alg, k.kty, k.use) == ("RS256", "RSA", "sig")
        der = base64.b64decode(k.x_5_c[0])
        numbers = x509.load_der_x509_certificate(der).public_key().public_numbers()
        b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
        assert b64u(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")) == k.n, "x5c key matches n"
        assert b64u(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")) == k.e, "x5c key matches e"
        assert k.x_5_t_s_256 == b64u(hashlib.sha256(der).digest()), "x5t#S256"
    header = json.loads(base64.urlsafe_b64decode(signed["res"].access_token.split(".")[0] + "=="))
    assert header["kid"] in [k.kid for k in jwks.keys]


def test_get_jwks_of_unknown_client(workos_no_retry):
    expect_error(lambda: workos_no_retry.user_management.get_jwks(MISSING_CLIENT), NotFoundError, 404)
