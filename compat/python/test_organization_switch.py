"""The hosted organization switcher (a Portico extension): the app's backend
asks for a one-time link for a signed-in session (POST
/user_management/sessions/{id}/organization_switch over plain HTTP: the SDK
has no such call), the browser opens it (driven by hosted.py) and lands on
/choose-organization, the choice goes back to redirect_uri?code&state, and
authenticate_with_code answers with tokens for the SAME session in the
chosen organization. Also the refusals: wrong client / redirect URI / PKCE
method (422 naming the field), unknown session (404), ended session (422
naming session_id; links made before the end stop working), a link opened
twice."""

from __future__ import annotations

import re
import time
import urllib.parse
from datetime import datetime

import pytest
from workos import BadRequestError
from workos.organization_membership import RoleSingle
from workos.pkce import PKCE

from hosted import REDIRECT_URI, CookieJar, browse, form_page
from support import (
    CLIENT_ID,
    ISO_MS,
    MISSING_CLIENT,
    MISSING_SESSION,
    PLAIN_PASSWORD,
    PORTICO_URL,
    assert_access_token,
    assert_has_permissions,
    create_password_user,
    expect_error,
    grant_admin_permissions,
    raw_request,
    uid,
)


@pytest.fixture(scope="module")
def world(workos):
    """Organizations A and B (the users' own) and C (no members)."""
    u = uid(3)
    return {
        "perms": grant_admin_permissions(workos, "py-compat-switch"),
        "org_a": workos.organizations.create_organization(name=f"Py Switch A {u}"),
        "org_b": workos.organizations.create_organization(name=f"Py Switch B {u}"),
        "org_c": workos.organizations.create_organization(name=f"Py Switch C {u}"),
    }


def signed_in_user(workos, world, tag):
    """A member of org A signs in with the password grant (scoped to A), then
    also joins org B as admin. Returns (user, sign-in response, session id)."""
    user = create_password_user(workos, tag)
    workos.organization_membership.create_organization_membership(
        user_id=user.id, organization_id=world["org_a"].id
    )
    res = workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    assert res.organization_id == world["org_a"].id
    sid = assert_access_token(workos, res.access_token, user_id=user.id)["sid"]
    workos.organization_membership.create_organization_membership(
        user_id=user.id, organization_id=world["org_b"].id, role=RoleSingle(role_slug="admin")
    )
    return user, res, sid


def request_switch(session_id, body):
    return raw_request("POST", f"/user_management/sessions/{session_id}/organization_switch", body=body)


def first_field(res):
    assert res.status == 422, f"expected 422, got {res.status}: {res.text}"
    assert res.json and res.json.get("errors"), res.text
    return res.json["errors"][0]["field"]


def open_link(url):
    """Open a switch link in a fresh browser: requires the 302 to /choose-organization."""
    jar = CookieJar()
    opened = browse(jar, url)
    assert opened.status == 302, f"opening the link: {opened.status} {opened.text[:300]}"
    assert opened.location == "/choose-organization"
    assert jar.get("portico_flow"), "the link sets the portico_flow cookie"
    return jar


def choice_button(html, organization_id):
    """The <button>…</button> of the choice for `organization_id` (None if absent)."""
    for button in re.findall(r"<button\b.*?</button>", html, re.I | re.S):
        if f'value="{organization_id}"' in button:
            return button
    return None


def choose(jar, csrf, organization_id):
    """Choose on the page: requires the 303 back to the redirect URI; returns its query."""
    chosen = browse(jar, "/choose-organization", form={"csrf_token": csrf, "organization_id": organization_id})
    assert chosen.status == 303, f"POST /choose-organization: {chosen.status} {chosen.text[:300]}"
    assert (chosen.location or "").startswith(f"{REDIRECT_URI}?"), chosen.location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(chosen.location).query))


def test_switch_with_pkce_continues_the_same_session(workos, workos_no_retry, world):
    user, _, sid = signed_in_user(workos, world, "switch")
    state = f"state-{uid()}"
    pair = PKCE().generate()
    asked_at = time.time()
    link = request_switch(
        sid,
        {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "code_challenge": pair.code_challenge,
            "code_challenge_method": "S256",
        },
    )
    assert link.status == 201, link.text
    assert link.json["object"] == "organization_switch"
    assert link.json["session_id"] == sid
    assert link.json["url"].startswith(f"{PORTICO_URL}/switch-organization?token="), link.json["url"]
    assert ISO_MS.match(link.json["expires_at"]), link.json["expires_at"]
    expires_at = datetime.fromisoformat(link.json["expires_at"].replace("Z", "+00:00")).timestamp()
    assert asked_at < expires_at <= time.time() + 600, link.json["expires_at"]

    jar = open_link(link.json["url"])
    page, csrf = form_page(jar, "/choose-organization")
    button_a = choice_button(page.text, world["org_a"].id)
    button_b = choice_button(page.text, world["org_b"].id)
    assert button_a and world["org_a"].name in button_a, "org A is offered"
    assert button_b and world["org_b"].name in button_b, "org B is offered"
    assert choice_button(page.text, world["org_c"].id) is None, "an organization the user is not in is not offered"
    assert 'class="badge"' in button_a, "the session's organization is marked"
    assert 'class="badge"' not in button_b, "the other organization is not marked"

    again = browse(CookieJar(), link.json["url"])
    assert again.status == 400, "a used link is refused"
    assert again.location is None, "no redirect"
    assert (again.headers.get("Content-Type") or "").startswith("text/html")

    refused = browse(jar, "/choose-organization", form={"csrf_token": csrf, "organization_id": world["org_c"].id})
    assert refused.status == 422, "choosing a non-member organization is refused"
    assert refused.location is None

    params = choose(jar, csrf, world["org_b"].id)
    assert params.get("state") == state, "state comes back unchanged"
    code = params.get("code")
    assert code and len(code) >= 20

    res = workos.user_management.authenticate_with_code(code=code, code_verifier=pair.code_verifier)
    assert res.user.id == user.id
    assert res.organization_id == world["org_b"].id, "scoped to the chosen organization"
    claims = assert_access_token(workos, res.access_token, user_id=user.id, session_id=sid)
    assert claims["org_id"] == world["org_b"].id
    assert claims["role"] == "admin"
    assert_has_permissions(claims.get("permissions"), world["perms"])

    refreshed = workos.user_management.authenticate_with_refresh_token(refresh_token=res.refresh_token)
    assert refreshed.organization_id == world["org_b"].id
    after = assert_access_token(workos, refreshed.access_token, user_id=user.id, session_id=sid)
    assert after["org_id"] == world["org_b"].id

    sessions = list(workos.user_management.list_sessions(user.id, limit=100).auto_paging_iter())
    assert [s.id for s in sessions] == [sid], "no second session"
    assert sessions[0].status.value == "active"
    assert sessions[0].organization_id == world["org_b"].id

    replay = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_code(code=code, code_verifier=pair.code_verifier),
        BadRequestError,
        400,
    )
    assert replay.error == "invalid_grant", replay


def test_switch_without_pkce_or_state_and_back(workos, world):
    user, _, sid = signed_in_user(workos, world, "switch-plain")
    link = request_switch(sid, {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI})
    assert link.status == 201, link.text
    jar = open_link(link.json["url"])
    _, csrf = form_page(jar, "/choose-organization")
    params = choose(jar, csrf, world["org_b"].id)
    assert "state" not in params, "no state asked, none sent"
    res = workos.user_management.authenticate_with_code(code=params["code"])
    assert res.organization_id == world["org_b"].id
    assert assert_access_token(workos, res.access_token, user_id=user.id, session_id=sid)["org_id"] == world["org_b"].id

    back = request_switch(sid, {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": "back"})
    assert back.status == 201, back.text
    jar2 = open_link(back.json["url"])
    page, csrf2 = form_page(jar2, "/choose-organization")
    assert 'class="badge"' in (choice_button(page.text, world["org_b"].id) or ""), "org B is now the current one"
    params2 = choose(jar2, csrf2, world["org_a"].id)
    assert params2.get("state") == "back"
    res2 = workos.user_management.authenticate_with_code(code=params2["code"])
    assert res2.organization_id == world["org_a"].id
    claims = assert_access_token(workos, res2.access_token, user_id=user.id, session_id=sid)
    assert claims["org_id"] == world["org_a"].id
    assert claims["role"] == "member"


# ---- refusals ---------------------------------------------------------------


def test_wrong_or_missing_client_id(workos, world):
    _, _, sid = signed_in_user(workos, world, "switch-client")
    for body in ({"redirect_uri": REDIRECT_URI}, {"client_id": MISSING_CLIENT, "redirect_uri": REDIRECT_URI}):
        assert first_field(request_switch(sid, body)) == "client_id", body


def test_redirect_uri_not_allowed(workos, world):
    _, _, sid = signed_in_user(workos, world, "switch-redirect")
    for redirect_uri in (None, f"https://evil-{uid(3)}.example.com/callback", f"{REDIRECT_URI}/"):
        body = {"client_id": CLIENT_ID}
        if redirect_uri is not None:
            body["redirect_uri"] = redirect_uri
        assert first_field(request_switch(sid, body)) == "redirect_uri", redirect_uri


def test_code_challenge_method_other_than_s256(workos, world):
    _, _, sid = signed_in_user(workos, world, "switch-pkce")
    res = request_switch(
        sid,
        {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": PKCE().generate().code_challenge,
            "code_challenge_method": "plain",
        },
    )
    assert first_field(res) == "code_challenge_method"


def test_unknown_session_is_not_found():
    res = request_switch(MISSING_SESSION, {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI})
    assert res.status == 404, res.text


def test_ended_session(workos, world):
    _, _, sid = signed_in_user(workos, world, "switch-ended")
    link = request_switch(sid, {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI})
    assert link.status == 201, link.text
    workos.user_management.revoke_session(session_id=sid)
    opened = browse(CookieJar(), link.json["url"])
    assert opened.status == 400, "a link of an ended session is refused"
    assert opened.location is None
    assert first_field(request_switch(sid, {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI})) == "session_id"


def test_switcher_page_without_a_valid_token():
    for target in ("/switch-organization", f"/switch-organization?token=not-a-token-{uid()}"):
        page = browse(CookieJar(), target)
        assert page.status == 400, target
        assert page.location is None
