"""The authorization code flow: get_authorization_url -> /user_management/authorize
-> the hosted pages (driven over plain HTTP by hosted.py: email, password,
organization choice, email verification) -> redirect_uri?code&state ->
authenticate_with_code (confidential, API key) or authenticate_with_code_pkce
on a public client. Also the refusals: wrong or missing code_verifier,
replayed code (and the session it issued is revoked), untrusted client /
redirect URI (an error page, no redirect), and OAuth errors sent back to the
redirect URI."""

from __future__ import annotations

import urllib.parse

import pytest
from workos import BadRequestError, create_public_client
from workos.pkce import PKCE

from hosted import REDIRECT_URI, CookieJar, browse, form_page, open_authorization_url, sign_in_with_password
from support import (
    CLIENT_ID,
    MISSING_CLIENT,
    PLAIN_PASSWORD,
    PORTICO_URL,
    assert_access_token,
    assert_has_permissions,
    assert_unscoped,
    create_password_user,
    create_unverified_user,
    expect_error,
    grant_admin_permissions,
    mailed_code,
    note,
    raw_create_membership,
    uid,
)


@pytest.fixture(scope="module")
def public():
    client = create_public_client(client_id=CLIENT_ID, base_url=f"{PORTICO_URL}/")
    yield client
    client.close()


@pytest.fixture(scope="module")
def world(workos):
    u = uid(3)
    perms = grant_admin_permissions(workos, "py-compat-code")
    org_a = workos.organizations.create_organization(name=f"Py Code A {u}")
    org_b = workos.organizations.create_organization(name=f"Py Code B {u}")
    return {"perms": perms, "org_a": org_a, "org_b": org_b}


def user_in(workos, tag, memberships=()):
    """A verified user with PLAIN_PASSWORD and the given (org, role) memberships."""
    user = create_password_user(workos, tag)
    for org, role in memberships:
        raw_create_membership(user.id, org.id, role_slug=role)
    return user


def hosted_sign_in(workos, user, pkce=True, organization_id=None, verification_code=None):
    """Sign `user` in on the hosted pages; returns (code, verifier, done)."""
    state = f"state-{uid()}"
    pair = PKCE().generate() if pkce else None
    url = workos.user_management.get_authorization_url(
        provider="authkit",
        redirect_uri=REDIRECT_URI,
        state=state,
        code_challenge=pair.code_challenge if pair else None,
        code_challenge_method="S256" if pair else None,
    )
    done = sign_in_with_password(
        open_authorization_url(url),
        email=user.email,
        password=PLAIN_PASSWORD,
        organization_id=organization_id,
        verification_code=verification_code,
    )
    assert done.params.get("state") == state, "state comes back unchanged"
    code = done.params.get("code")
    assert code and len(code) >= 20, f"an opaque code in {done.location}"
    return code, (pair.code_verifier if pair else None), done


def test_get_authorization_url(workos):
    pair = PKCE().generate()
    url = workos.user_management.get_authorization_url(
        provider="authkit",
        redirect_uri=REDIRECT_URI,
        state="xyz",
        code_challenge=pair.code_challenge,
        code_challenge_method="S256",
    )
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{PORTICO_URL}/user_management/authorize"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["response_type"] == "code"
    assert query["code_challenge"] == pair.code_challenge
    assert query["code_challenge_method"] == "S256"
    flow = open_authorization_url(url)
    assert flow.status == 302
    assert flow.location == "/sign-in"
    assert flow.jar.get("portico_flow")


def test_screen_hint_sign_up(workos):
    url = workos.user_management.get_authorization_url(
        provider="authkit", redirect_uri=REDIRECT_URI, screen_hint="sign-up"
    )
    flow = open_authorization_url(url)
    assert (flow.status, flow.location) == (302, "/sign-up")
    assert browse(flow.jar, "/sign-up").status == 200


def test_public_client_pkce_exchange_is_scoped_to_the_only_organization(workos, public, world):
    user = user_in(workos, "code-single", [(world["org_a"], "admin")])
    code, verifier, done = hosted_sign_in(workos, user)
    assert done.steps == [], "straight back to the app"
    res = public.user_management.authenticate_with_code_pkce(code=code, code_verifier=verifier)
    assert res.user.id == user.id
    assert res.user.email == user.email
    assert res.authentication_method is not None and res.authentication_method.value == "Password"
    assert res.organization_id == world["org_a"].id
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == world["org_a"].id
    assert claims["role"] == "admin"
    assert claims["roles"] == ["admin"]
    assert_has_permissions(claims.get("permissions"), world["perms"])
    refreshed = public.user_management.authenticate_with_refresh_token(refresh_token=res.refresh_token)
    assert_access_token(workos, refreshed.access_token, user_id=user.id, session_id=claims["sid"])


def test_confidential_exchange_with_verifier(workos):
    user = user_in(workos, "code-confidential")
    code, verifier, _ = hosted_sign_in(workos, user)
    res = workos.user_management.authenticate_with_code(code=code, code_verifier=verifier)
    assert res.user.id == user.id
    assert res.authentication_method is not None and res.authentication_method.value == "Password"
    assert res.organization_id is None
    assert_unscoped(assert_access_token(workos, res.access_token, user_id=user.id))


def test_confidential_exchange_without_pkce(workos):
    user = user_in(workos, "code-no-pkce")
    code, _, _ = hosted_sign_in(workos, user, pkce=False)
    res = workos.user_management.authenticate_with_code(code=code)
    assert res.user.id == user.id


def test_several_organizations_choose_one(workos, public, world):
    user = user_in(workos, "code-multi", [(world["org_a"], "admin"), (world["org_b"], "member")])
    code, verifier, done = hosted_sign_in(workos, user, organization_id=world["org_b"].id)
    assert done.steps == ["/choose-organization"]
    res = public.user_management.authenticate_with_code_pkce(code=code, code_verifier=verifier)
    assert res.organization_id == world["org_b"].id
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == world["org_b"].id
    assert claims["role"] == "member"


def test_organization_hint_skips_the_choice(workos, public, world):
    user = user_in(workos, "code-org-hint", [(world["org_a"], "admin"), (world["org_b"], "member")])
    pair = PKCE().generate()
    url = workos.user_management.get_authorization_url(
        provider="authkit",
        redirect_uri=REDIRECT_URI,
        organization_id=world["org_a"].id,
        code_challenge=pair.code_challenge,
        code_challenge_method="S256",
    )
    done = sign_in_with_password(open_authorization_url(url), email=user.email, password=PLAIN_PASSWORD)
    assert done.steps == [], "no organization choice"
    res = public.user_management.authenticate_with_code_pkce(code=done.params["code"], code_verifier=pair.code_verifier)
    assert res.organization_id == world["org_a"].id
    assert assert_access_token(workos, res.access_token, user_id=user.id)["role"] == "admin"


def test_unverified_user_verifies_on_the_way(workos, public):
    user = create_unverified_user(workos, "code-unverified")
    code, verifier, done = hosted_sign_in(workos, user, verification_code=lambda: mailed_code(user.email).code)
    assert done.steps == ["/verify-email"]
    res = public.user_management.authenticate_with_code_pkce(code=code, code_verifier=verifier)
    assert res.user.id == user.id
    assert res.user.email_verified is True
    assert workos.user_management.get_user(user.id).email_verified is True


def test_no_organization_choice_before_email_verification(workos, public, world):
    user = create_unverified_user(workos, "code-unverified-multi")
    raw_create_membership(user.id, world["org_a"].id)
    raw_create_membership(user.id, world["org_b"].id)
    pair = PKCE().generate()
    url = workos.user_management.get_authorization_url(
        provider="authkit", redirect_uri=REDIRECT_URI, code_challenge=pair.code_challenge, code_challenge_method="S256"
    )
    flow = open_authorization_url(url)
    jar = flow.jar
    _, csrf = form_page(jar, "/sign-in")
    assert browse(jar, "/sign-in", form={"csrf_token": csrf, "email": user.email}).status == 303
    after_password = browse(jar, "/sign-in/password", form={"csrf_token": csrf, "password": PLAIN_PASSWORD})
    assert (after_password.status, after_password.location) == (303, "/verify-email")
    skipped = browse(jar, "/choose-organization", form={"csrf_token": csrf, "organization_id": world["org_a"].id})
    assert skipped.status == 422, "the choice is refused"
    assert skipped.location is None, "no redirect"
    form_page(jar, "/verify-email")
    verified = browse(jar, "/verify-email", form={"csrf_token": csrf, "code": mailed_code(user.email).code})
    assert (verified.status, verified.location) == (303, "/choose-organization")
    chosen = browse(jar, "/choose-organization", form={"csrf_token": csrf, "organization_id": world["org_a"].id})
    assert chosen.status == 303 and (chosen.location or "").startswith(f"{REDIRECT_URI}?"), chosen.location
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(chosen.location).query))["code"]
    res = public.user_management.authenticate_with_code_pkce(code=code, code_verifier=pair.code_verifier)
    assert res.organization_id == world["org_a"].id
    assert res.user.email_verified is True


def test_wrong_code_verifier(workos, workos_no_retry):
    user = user_in(workos, "code-wrong-verifier")
    code, _, _ = hosted_sign_in(workos, user)
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_code(
            code=code, code_verifier=PKCE().generate().code_verifier
        ),
        BadRequestError,
        400,
    )
    assert err.error == "invalid_grant", err
    note(f"python: wrong code_verifier -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_missing_code_verifier(workos, workos_no_retry):
    user = user_in(workos, "code-missing-verifier")
    code, _, _ = hosted_sign_in(workos, user)
    err = expect_error(lambda: workos_no_retry.user_management.authenticate_with_code(code=code), BadRequestError, 400)
    assert err.error == "invalid_grant", err


def test_replayed_code_revokes_the_first_session(workos, workos_no_retry):
    user = user_in(workos, "code-replay")
    code, verifier, _ = hosted_sign_in(workos, user)
    first = workos.user_management.authenticate_with_code(code=code, code_verifier=verifier)
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_code(code=code, code_verifier=verifier),
        BadRequestError,
        400,
    )
    assert err.error == "invalid_grant", err
    note(f"python: replayed code -> {type(err).__name__} (HTTP {err.status_code}): {err}")
    revoked = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_refresh_token(refresh_token=first.refresh_token),
        BadRequestError,
        400,
    )
    assert revoked.error == "invalid_grant", "the first session is revoked"


def test_unknown_code(workos_no_retry):
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_code(code=f"not-a-code-{uid()}"),
        BadRequestError,
        400,
    )
    assert err.error == "invalid_grant", err


def test_hosted_form_without_csrf_token_is_refused(workos):
    user = user_in(workos, "code-csrf")
    url = workos.user_management.get_authorization_url(provider="authkit", redirect_uri=REDIRECT_URI, state="s")
    flow = open_authorization_url(url)
    assert browse(flow.jar, "/sign-in", form={"email": user.email}).status == 403
    assert browse(flow.jar, "/sign-in", form={"csrf_token": "x" * 43, "email": user.email}).status == 403
    done = sign_in_with_password(flow, email=user.email, password=PLAIN_PASSWORD)
    assert done.params.get("code")


# ---- /authorize refusals ------------------------------------------------------------


def test_unknown_redirect_uri_is_an_error_page(workos):
    url = workos.user_management.get_authorization_url(
        provider="authkit", redirect_uri=f"https://evil-{uid(3)}.example.com/callback", state="s"
    )
    page = browse(CookieJar(), url)
    assert page.status == 400
    assert page.location is None, "no Location header"
    assert (page.headers.get("Content-Type") or "").startswith("text/html")


def test_unknown_client_id_is_an_error_page(workos):
    url = workos.user_management.get_authorization_url(
        provider="authkit", redirect_uri=REDIRECT_URI, client_id=MISSING_CLIENT, state="s"
    )
    page = browse(CookieJar(), url)
    assert page.status == 400
    assert page.location is None, "no Location header"
    assert (page.headers.get("Content-Type") or "").startswith("text/html")


def _back(page):
    assert page.status == 302, page.status
    parts = urllib.parse.urlsplit(page.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    return dict(urllib.parse.parse_qsl(parts.query))


def test_unsupported_code_challenge_method_goes_back_with_invalid_request(workos):
    state = f"s-{uid()}"
    # The SDK types the method as Literal["S256"]; the server must still refuse others.
    url = workos.user_management.get_authorization_url(
        provider="authkit",
        redirect_uri=REDIRECT_URI,
        state=state,
        code_challenge=PKCE().generate().code_challenge,
        code_challenge_method="plain",  # type: ignore[arg-type]
    )
    query = _back(browse(CookieJar(), url))
    assert query.get("error") == "invalid_request"
    assert query.get("state") == state
    assert "code" not in query


def test_prompt_none_goes_back_with_login_required(workos):
    state = f"s-{uid()}"
    url = workos.user_management.get_authorization_url(
        provider="authkit", redirect_uri=REDIRECT_URI, state=state, prompt="none"
    )
    query = _back(browse(CookieJar(), url))
    assert query.get("error") == "login_required"
    assert query.get("state") == state
