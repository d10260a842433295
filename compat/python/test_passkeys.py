"""Passkeys on the hosted pages, seen from the SDK: a software authenticator
(webauthn.py) stands in for the browser's, and hosted.py drives the pages over
plain HTTP, including `POST /passkeys/options` (the ceremony the pages' script
asks for) and the forms that post the answer in their `credential` field.

A passkey is registered on the passkeys page (a one-time link the app asks
for with `POST /user_management/sessions/{id}/passkey_settings`, plain HTTP:
no SDK has the call) or, when an organization requires MFA, on the set-up
page instead of an authenticator app. It then signs in from the first page
with no email typed; the code exchange through the SDK
(`authenticate_with_code`) says `Passkey`, and a passkey counts as both
factors, so it satisfies the organization's MFA rule on its own. The password
grant cannot use a passkey: for a user whose only second factor is a passkey
it still answers `mfa_challenge` (MfaChallengeError) with no authenticator
apps to offer; an enrollment would let the password alone add a factor in the
passkey's place. The
`authentication.passkey_*` events must parse into the SDK's models (strict
about keys). A passkey signed for another origin (a phishing page) and one
the app's backend removed (`DELETE /user_management/passkeys/{id}`, plain
HTTP) are refused with a 400 page.

Passkeys belong to an origin: compat/run.sh configures them for
PORTICO_PASSKEY_URL (http://localhost:PORT, RP ID localhost), and the hosted
pages offer them only there (a browser refuses passkeys on an IP address). So
the browsers here are on that origin (the authorization URL and the passkeys
link the API makes on PORTICO_URL are moved to it, as a browser test does),
clientDataJSON names it, and the pages must show the passkey forms; the API
calls stay on PORTICO_URL. Each browser sends a user agent of its own, which
is how a test finds its events."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from workos._errors import MfaChallengeError
from workos.common.models import (
    AuthenticateResponseAuthenticationMethod,
    AuthenticationPasskeyFailed,
    AuthenticationPasskeySucceeded,
)
from workos.pkce import PKCE
from workos.user_management import PasswordPlaintext

from hosted import (
    REDIRECT_URI,
    CookieJar,
    Flow,
    Page,
    browse,
    form_page,
    on_origin,
    passkey_options,
    sign_in_with_password,
)
from support import (
    CLIENT_ID,
    ISO_MS,
    PLAIN_PASSWORD,
    PORTICO_URL,
    RETURN_TO_ORIGIN,
    assert_access_token,
    eventually,
    id_pattern,
    note,
    raw_create_membership,
    raw_request,
    uid,
    unique_email,
)
from webauthn import Authenticator, b64url, from_b64url

_PASSKEY_URL = os.environ.get("PORTICO_PASSKEY_URL") or PORTICO_URL.replace("//127.0.0.1", "//localhost")
PASSKEY_ORIGIN = _PASSKEY_URL.rstrip("/")
RP_ID = urllib.parse.urlsplit(PASSKEY_ORIGIN).hostname
PHISHING_ORIGIN = "https://evil.example"
# How long a ceremony's challenge lives (the options' `timeout`): 5 minutes.
CEREMONY_TIMEOUT_MS = 5 * 60 * 1000
# The tests' address as the server sees it (recorded in the events).
CLIENT_IP = "127.0.0.1"
PASSKEY = AuthenticateResponseAuthenticationMethod.PASSKEY
PASSWORD = AuthenticateResponseAuthenticationMethod.PASSWORD
# The refusals the first page shows (crates/app/locales/en.toml, passkey_failed / passkey_unknown).
FAILED_TEXT = "That passkey could not be used."
UNKNOWN_TEXT = "This passkey is not registered to an account here."
# What the software authenticator reports (a platform passkey, also usable from a phone).
TRANSPORTS = ["internal", "hybrid"]


# ---- helpers ---------------------------------------------------------------------


def browser_agent(tag: str) -> str:
    """A Chrome-on-Linux user agent unique to one test: Portico names a passkey
    after the browser that made it, and records the agent in its events."""
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/126.0.0.0 Safari/537.36 compat-{tag}-{uid()}"
    )


def iso_range_start() -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def named_member(workos, tag, organization=None):
    """A verified password user with a name (the registration options show it),
    a member of `organization` when given."""
    user = workos.user_management.create_user(
        email=unique_email(tag),
        first_name="Pia",
        last_name="Passkey",
        password=PasswordPlaintext(password=PLAIN_PASSWORD),
        email_verified=True,
    )
    if organization is not None:
        raw_create_membership(user.id, organization.id)
    return user


def mfa_required_org(workos, name):
    org = workos.organizations.create_organization(name=f"Py {name} {uid(3)}")
    res = raw_request("PUT", f"/organizations/{org.id}/policy", body={"mfa": {"required": True}})
    assert res.status == 200, f"policy: {res.status} {res.text}"
    assert res.json["mfa"] == {"required": True, "enforced_from": None}, res.json
    return org


@dataclass
class Browser:
    """A browser in a sign-in flow the app started (PKCE, state)."""

    flow: Flow
    state: str
    verifier: str

    @property
    def jar(self) -> CookieJar:
        return self.flow.jar


def new_browser(user_agent: str) -> CookieJar:
    """A browser on the passkey origin."""
    jar = CookieJar()
    jar.user_agent = user_agent
    jar.origin = PASSKEY_ORIGIN
    return jar


def offers(page: Page, action: str, purpose: str) -> None:
    """The page has the passkey form its script drives (posting to `action`)."""
    assert f'action="{action}" data-passkey="{purpose}"' in page.text, f"no passkey form for {action}: {page.text}"
    assert 'id="passkeys-unavailable"' not in page.text, "passkeys are available on this origin"


def start(workos, user_agent: str) -> Browser:
    """A new browser (user agent `user_agent`) opens the app's authorization URL."""
    state = f"state-{uid()}"
    pair = PKCE().generate()
    url = workos.user_management.get_authorization_url(
        provider="authkit",
        redirect_uri=REDIRECT_URI,
        state=state,
        code_challenge=pair.code_challenge,
        code_challenge_method="S256",
    )
    jar = new_browser(user_agent)
    page = browse(jar, on_origin(url, PASSKEY_ORIGIN))
    assert (page.status, page.location) == (302, "/sign-in"), f"authorize: {page.status} {page.text[:300]}"
    return Browser(Flow(jar=jar, status=page.status, location=page.location, page=page), state, pair.code_verifier)


def options(jar: CookieJar, csrf: str, purpose: str) -> dict[str, Any]:
    """The options of a new ceremony for the page's flow (200, not cached)."""
    flow_cookie = jar.get("portico_flow")
    assert flow_cookie, "the browser is in a flow"
    # The hidden `flow` field is the flow cookie's tag: the first 16 hex digits of its SHA-256.
    assert jar.flow_tag == hashlib.sha256(flow_cookie.encode()).hexdigest()[:16], jar.flow_tag
    page = passkey_options(jar, csrf, purpose)
    assert page.status == 200, f"options for {purpose}: {page.status} {page.text[:300]}"
    assert page.headers.get("Content-Type", "").startswith("application/json"), page.headers.get("Content-Type")
    assert page.headers.get("Cache-Control") == "no-store", "a challenge is never cached"
    opts = json.loads(page.text)
    assert len(from_b64url(opts["challenge"])) == 32, f"a 32-byte random challenge: {opts['challenge']}"
    assert opts["timeout"] == CEREMONY_TIMEOUT_MS
    return opts


def assert_request_options(opts: dict[str, Any], allowed: list[dict[str, Any]]) -> None:
    """Options for `navigator.credentials.get()`: `allowed` are the credential descriptors."""
    assert set(opts) == {"challenge", "rpId", "timeout", "userVerification", "allowCredentials"}, opts
    assert opts["rpId"] == RP_ID
    assert opts["userVerification"] == "required", "user verification makes a passkey two factors"
    assert opts["allowCredentials"] == allowed


def register(jar: CookieJar, csrf: str, authenticator: Authenticator, action: str, user) -> Page:
    """A registration ceremony on the page, answered by `authenticator` and posted to `action`."""
    opts = options(jar, csrf, "register")
    assert opts["rp"]["id"] == RP_ID
    assert isinstance(opts["rp"]["name"], str) and opts["rp"]["name"], opts["rp"]
    assert opts["user"] == {
        "id": b64url(user.id.encode()),
        "name": user.email,
        "displayName": "Pia Passkey",
    }, "the user handle is the user id, named by the email"
    assert {"type": "public-key", "alg": -7} in opts["pubKeyCredParams"], opts["pubKeyCredParams"]
    assert opts["authenticatorSelection"]["residentKey"] == "required", "a discoverable credential (no email typed)"
    assert opts["authenticatorSelection"]["userVerification"] == "required"
    assert opts["attestation"] == "none"
    assert opts["excludeCredentials"] == [], "the user has no passkey yet"
    credential = authenticator.create(opts, origin=PASSKEY_ORIGIN)
    return browse(jar, action, form={"csrf_token": csrf, "credential": json.dumps(credential)})


def sign_in_with_passkey(browser: Browser, authenticator: Authenticator, origin: str = PASSKEY_ORIGIN) -> Page:
    """The first page's "Sign in with a passkey": no email, any of the user's passkeys."""
    page, csrf = form_page(browser.jar, "/sign-in")
    offers(page, "/sign-in/passkey", "sign_in")
    opts = options(browser.jar, csrf, "sign_in")
    assert_request_options(opts, [])
    credential = authenticator.get(opts, origin=origin)
    return browse(browser.jar, "/sign-in/passkey", form={"csrf_token": csrf, "credential": json.dumps(credential)})


def exchange(workos, browser: Browser, page: Page):
    """The app's side of a finished flow: the code from the redirect, exchanged with the SDK."""
    assert page.status == 303, f"{page.status} {page.text[:300]}"
    assert (page.location or "").startswith(f"{REDIRECT_URI}?"), f"back to the app, not {page.location}"
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.location).query))
    assert params.get("state") == browser.state, "state comes back unchanged"
    return workos.user_management.authenticate_with_code(code=params["code"], code_verifier=browser.verifier)


def list_passkeys(user_id: str) -> list[dict[str, Any]]:
    res = raw_request("GET", f"/user_management/users/{user_id}/passkeys")
    assert res.status == 200, f"{res.status} {res.text}"
    assert res.json["object"] == "list", res.json
    return res.json["data"]


def set_up_for_mfa(workos, user, authenticator: Authenticator, user_agent: str):
    """A member of an organization that requires MFA signs in with the password
    and, on the set-up page, chooses a passkey instead of an authenticator app.
    Returns the code exchange's answer."""
    browser = start(workos, user_agent)
    stopped = sign_in_with_password(browser.flow, email=user.email, password=PLAIN_PASSWORD, stop_at="/mfa/setup")
    assert stopped.stopped == "/mfa/setup", f"the organization asks for a second factor: {stopped}"
    page, csrf = form_page(browser.jar, "/mfa/setup")
    assert "totp-qr" in page.text, "the page offers an authenticator app too"
    offers(page, "/mfa/setup/passkey", "register")
    done = register(browser.jar, csrf, authenticator, "/mfa/setup/passkey", user)
    return exchange(workos, browser, done)


def one_event(workos, name: str, range_start: str, cls: type, match: Callable[[Any], bool]):
    """The one event `name` since `range_start` whose data matches, parsed by the SDK into `cls`."""

    def fetch():
        events = list(workos.events.list_events(events=[name], range_start=range_start, limit=100).auto_paging_iter())
        for e in events:
            assert type(e).__name__ != "EventSchemaUnknown", e
            assert isinstance(e, cls), f"{name} parsed into {type(e).__name__}"
        mine = [e for e in events if match(e.data)]
        assert len(mine) == 1, f"expected one {name} event of this test, got {len(mine)}"
        return mine[0]

    event = eventually(fetch)
    assert event.event == name
    assert event.object == "event"
    assert id_pattern("event").match(event.id), event.id
    return event


# ---- tests -------------------------------------------------------------------------


def test_passkey_added_on_the_passkeys_page_signs_in_alone(workos):
    range_start = iso_range_start()
    org = workos.organizations.create_organization(name=f"Py Passkeys {uid(3)}")
    user = named_member(workos, "passkey-page", org)
    agent = browser_agent("page")

    # The app signed the user in a moment ago and links to the passkeys page.
    signed_in = workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    assert signed_in.organization_id == org.id
    sid = assert_access_token(workos, signed_in.access_token, user_id=user.id)["sid"]
    return_to = f"{RETURN_TO_ORIGIN}/settings"
    link = raw_request(
        "POST",
        f"/user_management/sessions/{sid}/passkey_settings",
        body={"client_id": CLIENT_ID, "return_to": return_to},
    )
    assert link.status == 201, f"{link.status} {link.text}"
    assert link.json["object"] == "passkey_settings"
    assert link.json["session_id"] == sid
    # The link opens where passkeys work (the public URL, unless they are set up elsewhere only).
    assert link.json["url"].startswith(f"{PASSKEY_ORIGIN}/passkeys?token="), link.json["url"]
    assert ISO_MS.match(link.json["expires_at"]), link.json["expires_at"]

    # The browser opens it: a flow of its own, then the page (no passkeys yet, a way back to the app).
    jar = new_browser(agent)
    opened = browse(jar, on_origin(link.json["url"], PASSKEY_ORIGIN))
    assert (opened.status, opened.location) == (303, "/passkeys"), f"{opened.status} {opened.text[:300]}"
    assert jar.get("portico_flow"), "the link sets the page's flow cookie"
    page, csrf = form_page(jar, "/passkeys")
    assert 'id="no-passkeys"' in page.text, page.text
    assert f'href="{return_to}"' in page.text
    offers(page, "/passkeys/add", "register")

    # Signed in just now: adding a passkey needs no confirmation.
    laptop = Authenticator()
    added = register(jar, csrf, laptop, "/passkeys/add", user)
    assert (added.status, added.location) == (303, "/passkeys?done=added"), f"{added.status} {added.text[:300]}"
    page = browse(jar, "/passkeys?done=added")
    assert page.status == 200
    assert 'class="passkey-name">Chrome on Linux<' in page.text, "listed under the browser that made it"

    listed = list_passkeys(user.id)
    assert len(listed) == 1, listed
    passkey = listed[0]
    assert passkey["object"] == "passkey"
    assert id_pattern("passkey").match(passkey["id"]), passkey["id"]
    assert passkey["user_id"] == user.id
    assert passkey["name"] == "Chrome on Linux", "named after the user agent"
    assert passkey["synced"] is True, "the authenticator set the backed-up flag"
    assert passkey["last_used_at"] is None
    assert ISO_MS.match(passkey["created_at"]) and ISO_MS.match(passkey["updated_at"]), passkey

    # The same passkey again is excluded (the authenticator would refuse to make a second one).
    again = options(jar, csrf, "register")
    assert again["excludeCredentials"] == [{"type": "public-key", "id": laptop.id, "transports": TRANSPORTS}]

    # Later, on the first page: the passkey alone, no email typed.
    browser = start(workos, agent)
    res = exchange(workos, browser, sign_in_with_passkey(browser, laptop))
    assert res.authentication_method == PASSKEY
    assert res.user.id == user.id
    assert res.user.email == user.email
    assert res.organization_id == org.id, "into the user's only organization"
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == org.id
    assert claims["sid"] != sid, "a new sign-in is a new session"
    sessions = {s.id: s for s in workos.user_management.list_sessions(user.id, limit=100).auto_paging_iter()}
    assert sessions[claims["sid"]].auth_method.value == "passkey", "the session says how it began"
    assert sessions[sid].auth_method.value == "password"
    used = list_passkeys(user.id)[0]
    assert ISO_MS.match(used["last_used_at"] or ""), used

    event = one_event(
        workos,
        "authentication.passkey_succeeded",
        range_start,
        AuthenticationPasskeySucceeded,
        lambda d: d.user_agent == agent,
    )
    assert event.data.type == "passkey"
    assert event.data.status == "succeeded"
    assert event.data.user_id == user.id
    assert event.data.email == user.email
    assert event.data.ip_address == CLIENT_IP
    assert event.data.user_agent == agent

    # A password sign-in now asks for the passkey as the second factor.
    second = start(workos, browser_agent("page-second"))
    stopped = sign_in_with_password(second.flow, email=user.email, password=PLAIN_PASSWORD, stop_at="/mfa/verify")
    assert stopped.stopped == "/mfa/verify", stopped
    page, csrf = form_page(second.jar, "/mfa/verify")
    offers(page, "/mfa/passkey", "second_factor")
    opts = options(second.jar, csrf, "second_factor")
    assert_request_options(opts, [{"type": "public-key", "id": laptop.id, "transports": TRANSPORTS}])
    verified = browse(
        second.jar,
        "/mfa/passkey",
        form={"csrf_token": csrf, "credential": json.dumps(laptop.get(opts, origin=PASSKEY_ORIGIN))},
    )
    res = exchange(workos, second, verified)
    assert res.authentication_method == PASSWORD, "signed in with the password; the passkey was the second step"
    assert res.user.id == user.id
    assert res.organization_id == org.id


def test_passkey_set_up_for_an_mfa_policy_satisfies_it_but_the_password_grant_cannot(
    workos, workos_no_retry
):
    org = mfa_required_org(workos, "Passkey MFA")
    user = named_member(workos, "passkey-mfa", org)
    laptop = Authenticator(counter=0)

    first = set_up_for_mfa(workos, user, laptop, browser_agent("mfa-setup"))
    assert first.authentication_method == PASSWORD
    assert first.user.id == user.id
    assert first.organization_id == org.id, "the passkey set-up finished the sign-in into the organization"
    assert assert_access_token(workos, first.access_token, user_id=user.id)["org_id"] == org.id
    # The authenticator-app enrollment the set-up page started went with the choice of a passkey.
    assert workos.multi_factor_auth.list_user_auth_factors(user.id).data == []
    listed = list_passkeys(user.id)
    assert [p["user_id"] for p in listed] == [user.id]

    # The API cannot use a passkey, and must not let the password alone enroll
    # another factor instead: the second factor is owed, with no app to offer.
    with pytest.raises(MfaChallengeError) as info:
        workos_no_retry.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)
    challenge = info.value
    assert challenge.status_code == 403
    assert challenge.code == "mfa_challenge"
    assert isinstance(challenge.pending_authentication_token, str) and challenge.pending_authentication_token
    assert challenge.user is not None and challenge.user["id"] == user.id
    assert challenge.authentication_factors == []
    note(f"python: password grant, passkey-only user in an MFA organization -> {type(challenge).__name__} (HTTP 403)")

    # On the hosted pages the passkey alone satisfies the organization's rule (a
    # counting authenticator this time: its counter goes up with each use).
    browser = start(workos, browser_agent("mfa-passkey"))
    res = exchange(workos, browser, sign_in_with_passkey(browser, laptop))
    assert res.authentication_method == PASSKEY
    assert res.user.id == user.id
    assert res.organization_id == org.id
    claims = assert_access_token(workos, res.access_token, user_id=user.id)
    assert claims["org_id"] == org.id
    assert claims["role"] == "member"
    again = start(workos, browser_agent("mfa-passkey-again"))
    assert exchange(workos, again, sign_in_with_passkey(again, laptop)).authentication_method == PASSKEY


def test_passkey_signed_for_another_origin_is_refused_and_recorded(workos):
    range_start = iso_range_start()
    org = mfa_required_org(workos, "Passkey Phishing")
    user = named_member(workos, "passkey-phished", org)
    laptop = Authenticator()
    set_up_for_mfa(workos, user, laptop, browser_agent("phished-setup"))

    # A phishing page relays the challenge: the browser writes the page's own origin.
    agent = browser_agent("phished")
    browser = start(workos, agent)
    refused = sign_in_with_passkey(browser, laptop, origin=PHISHING_ORIGIN)
    assert refused.status == 400, f"{refused.status} {refused.location} {refused.text[:300]}"
    assert refused.location is None
    assert FAILED_TEXT in refused.text, refused.text
    assert list_passkeys(user.id)[0]["last_used_at"] is None, "a refused passkey was not used"

    event = one_event(
        workos,
        "authentication.passkey_failed",
        range_start,
        AuthenticationPasskeyFailed,
        lambda d: d.user_agent == agent,
    )
    assert event.data.type == "passkey"
    assert event.data.status == "failed"
    assert event.data.user_id == user.id, "the passkey is known: its user is named"
    assert event.data.email == user.email, event.data.email
    assert event.data.ip_address == CLIENT_IP
    assert event.data.error.code == "passkey_failed"
    assert isinstance(event.data.error.message, str) and event.data.error.message
    note(f"python: authentication.passkey_failed for a known passkey carries email={event.data.email!r}")

    # The refusal leaves the flow as it was: a genuine answer to a new challenge signs in.
    res = exchange(workos, browser, sign_in_with_passkey(browser, laptop))
    assert res.authentication_method == PASSKEY
    assert res.user.id == user.id
    assert res.organization_id == org.id


def test_passkey_removed_through_the_api_no_longer_signs_in(workos):
    range_start = iso_range_start()
    org = mfa_required_org(workos, "Passkey Removed")
    user = named_member(workos, "passkey-removed", org)
    laptop = Authenticator()
    set_up_for_mfa(workos, user, laptop, browser_agent("removed-setup"))
    [passkey] = list_passkeys(user.id)

    removed = raw_request("DELETE", f"/user_management/passkeys/{passkey['id']}")
    assert removed.status == 202, f"{removed.status} {removed.text}"
    again = raw_request("DELETE", f"/user_management/passkeys/{passkey['id']}")
    assert again.status == 404, f"{again.status} {again.text}"
    assert list_passkeys(user.id) == []

    agent = browser_agent("removed")
    browser = start(workos, agent)
    gone = sign_in_with_passkey(browser, laptop)
    assert gone.status == 400, f"{gone.status} {gone.location} {gone.text[:300]}"
    assert gone.location is None
    assert UNKNOWN_TEXT in gone.text, gone.text

    # An unknown passkey names no user.
    event = one_event(
        workos,
        "authentication.passkey_failed",
        range_start,
        AuthenticationPasskeyFailed,
        lambda d: d.user_agent == agent,
    )
    assert event.data.user_id is None
    assert event.data.email is None
    assert event.data.error.code == "passkey_failed"

    # Without it the user has no second factor: the organization asks for one again.
    retry = start(workos, browser_agent("removed-password"))
    stopped = sign_in_with_password(retry.flow, email=user.email, password=PLAIN_PASSWORD, stop_at="/mfa/setup")
    assert stopped.stopped == "/mfa/setup", stopped
