"""Shared helpers for the Python SDK compatibility tests.

The server under test is described by environment variables set by
compat/run.sh: PORTICO_URL, PORTICO_API_KEY, PORTICO_CLIENT_ID.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

import jwt
import pytest
from workos import WorkOSClient
from workos._errors import APIError
from workos.user_management import PasswordPlaintext

PORTICO_URL = os.environ.get("PORTICO_URL", "http://127.0.0.1:8080").rstrip("/")
API_KEY = os.environ.get("PORTICO_API_KEY", "sk_test_missing")
CLIENT_ID = os.environ.get("PORTICO_CLIENT_ID", "client_missing")

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

PLAIN_PASSWORD = "Correct-Horse-Battery-9!"
IMPORTED_PASSWORD = "Imported-Passw0rd!"

MISSING_USER = "user_01HZZZZZZZZZZZZZZZZZZZZZZZ"
MISSING_ORG = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ"
MISSING_SESSION = "session_01HZZZZZZZZZZZZZZZZZZZZZZZ"
MISSING_CLIENT = "client_01HZZZZZZZZZZZZZZZZZZZZZZZ"

# The bootstrap client's redirect URI is http://localhost:3000/callback, so any
# path on this origin is an allowed logout return_to.
RETURN_TO_ORIGIN = "http://localhost:3000"

# Notes collected while running (which exception class an error mapped to,
# etc.); printed in the terminal summary by conftest.py.
NOTES: list[str] = []


def note(text: str) -> None:
    NOTES.append(text)


def make_client(api_key: str = API_KEY, max_retries: int = 1) -> WorkOSClient:
    """An SDK client pointed at Portico, with retries cut short."""
    return WorkOSClient(
        api_key=api_key,
        client_id=CLIENT_ID,
        base_url=f"{PORTICO_URL}/",
        max_retries=max_retries,
        request_timeout=30,
    )


def uid(nbytes: int = 5) -> str:
    return f"{int(time.time() * 1000):x}{secrets.token_hex(nbytes)}"


def unique_email(tag: str = "user") -> str:
    return f"py-{tag}-{uid()}@compat.example.com"


def unique_domain(tag: str = "org") -> str:
    return f"py-{tag}-{uid()}.compat-example.com"


def id_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$")


def slugs(roles: Any) -> list[str]:
    return sorted(r.slug for r in roles)


def expect_error(fn: Callable[[], Any], cls: type, status: int) -> APIError:
    """Call fn, require it to raise `cls` with HTTP `status`; return the error."""
    with pytest.raises(cls) as info:
        fn()
    err = info.value
    assert getattr(err, "status_code", None) == status, f"{type(err).__name__}: {err}"
    return err


def expect_client_error(fn: Callable[[], Any]) -> APIError:
    """Call fn, require an SDK APIError with a 4xx status; return it."""
    try:
        value = fn()
    except APIError as err:
        assert err.status_code is not None and 400 <= err.status_code < 500, (
            f"expected a 4xx, got {type(err).__name__}: {err}"
        )
        return err
    pytest.fail(f"expected a 4xx SDK error, the call returned {value!r}")


T = TypeVar("T")


def eventually(fn: Callable[[], T], timeout: float = 5.0, interval: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)


@dataclass
class RawResponse:
    status: int
    headers: Any
    text: str
    json: Optional[Any]


def raw_request(
    method: str,
    path: str,
    body: Any = None,
    headers: Optional[dict[str, str]] = None,
    api_key: str = API_KEY,
) -> RawResponse:
    """Plain HTTP call (no SDK) for wire-level checks."""
    data = None
    hdrs = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    req = urllib.request.Request(f"{PORTICO_URL}{path}", data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, res_headers, raw = res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        status, res_headers, raw = e.code, e.headers, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return RawResponse(status, res_headers, text, parsed)


def raw_create_membership(user_id: str, organization_id: str, role_slug: Optional[str] = None) -> dict:
    """Create a membership over plain HTTP.

    Used where the membership is only test set-up, so that a problem in the
    membership response shape (which the Python SDK parses strictly) is
    reported by test_memberships.py instead of breaking unrelated tests.
    """
    body: dict[str, Any] = {"user_id": user_id, "organization_id": organization_id}
    if role_slug is not None:
        body["role_slug"] = role_slug
    res = raw_request("POST", "/user_management/organization_memberships", body=body)
    assert 200 <= res.status < 300, f"membership create failed: {res.status} {res.text}"
    return res.json


# ---- sign-in helpers ---------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url)


def verify_access_token(workos: WorkOSClient, token: str) -> dict[str, Any]:
    """Verify an access token the way the SDK's session helper does (PyJWT's
    PyJWKClient on the SDK's JWKS URL, RS256, no audience) and return its claims."""
    signing_key = _jwks_client(workos.user_management.get_jwks_url()).get_signing_key_from_jwt(token)
    return jwt.decode(token, signing_key.key, algorithms=["RS256"], options={"verify_aud": False})


def assert_access_token(
    workos: WorkOSClient,
    token: str,
    user_id: Optional[str] = None,
    session_id: Optional[str] = None,
) -> dict[str, Any]:
    """Check the claims every Portico access token carries; return them."""
    assert isinstance(token, str) and token
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "RS256", header
    assert isinstance(header.get("kid"), str), header
    claims = verify_access_token(workos, token)
    assert isinstance(claims.get("iss"), str), claims
    if user_id is not None:
        assert claims["sub"] == user_id, claims
    assert id_pattern("session").match(claims["sid"]), claims
    if session_id is not None:
        assert claims["sid"] == session_id, "sid must not change"
    assert ULID.match(claims["jti"]), claims
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int), claims
    assert claims["iat"] <= time.time() + 1, "iat in the future"
    assert claims["exp"] > claims["iat"], claims
    return claims


def assert_unscoped(claims: dict[str, Any]) -> None:
    for claim in ("org_id", "role", "roles", "permissions"):
        assert claim not in claims, f"unscoped token carries {claim}: {claims}"


def assert_has_permissions(permissions: Any, expected: list[str]) -> None:
    assert isinstance(permissions, list), permissions
    missing = [p for p in expected if p not in permissions]
    assert not missing, f"permissions {permissions} lack {missing}"


def grant_admin_permissions(workos: WorkOSClient, tag: str) -> list[str]:
    """Create two permissions and add them (never set, so concurrent tests do
    not undo each other) to the environment role `admin`."""
    u = uid(3)
    slugs = [f"{tag}-{u}:read", f"{tag}-{u}:write"]
    for slug in slugs:
        workos.authorization.create_permission(slug=slug, name=slug)
        workos.authorization.add_environment_role_permission("admin", body_slug=slug)
    return slugs


def create_password_user(workos: WorkOSClient, tag: str) -> Any:
    return workos.user_management.create_user(
        email=unique_email(tag),
        password=PasswordPlaintext(password=PLAIN_PASSWORD),
        email_verified=True,
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


def get_no_redirect(url: str) -> RawResponse:
    """GET `url` like a browser would, without following a redirect."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=30) as res:
            status, res_headers, raw = res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        status, res_headers, raw = e.code, e.headers, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return RawResponse(status, res_headers, text, parsed)


def create_unverified_user(workos: WorkOSClient, tag: str) -> Any:
    """A user with PLAIN_PASSWORD whose email is not verified yet."""
    user = workos.user_management.create_user(
        email=unique_email(tag),
        password=PasswordPlaintext(password=PLAIN_PASSWORD),
    )
    assert user.email_verified is False
    return user


def other_code(code: str, plus: int = 1) -> str:
    """Six digits, different from `code` (a wrong guess that is still well formed)."""
    return f"{(int(code) + plus) % 1_000_000:06d}"


_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@dataclass
class Mail:
    id: str
    code: str
    subject: str


def mailed_code(to: str, not_ids: tuple[str, ...] = ()) -> Mail:
    """The 6-digit code in the newest email to `to`, read from the dev mailbox
    (/_dev/mail.json; the suite's server runs in dev mode). Waits until the
    newest message to `to` is not one of `not_ids`."""

    def read() -> Mail:
        res = raw_request("GET", "/_dev/mail.json")
        assert res.status == 200, f"dev mailbox: {res.status} {res.text[:200]}"
        newest = next((m for m in res.json if m["to"] == to), None)
        assert newest is not None, f"no message to {to} in the dev mailbox"
        assert newest["id"] not in not_ids, f"no new message to {to}"
        match = _CODE.search(newest["text"])
        assert match, f"no 6-digit code in {newest['text'][:200]!r}"
        return Mail(id=newest["id"], code=match.group(1), subject=newest["subject"])

    return eventually(read)


# ---- TOTP (RFC 6238) -----------------------------------------------------------

TOTP_STEP_SECONDS = 30


def totp_step(at: Optional[float] = None) -> int:
    """The TOTP step the Unix time `at` (default: now) falls in."""
    return int((time.time() if at is None else at) // TOTP_STEP_SECONDS)


def totp_code(secret: str, step: int) -> str:
    """The 6-digit TOTP code (HMAC-SHA1, RFC 6238) of base32 `secret` for `step`."""
    clean = secret.upper().replace(" ", "").rstrip("=")
    key = base64.b32decode(clean + "=" * (-len(clean) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{binary % 1_000_000:06d}"


class TotpDevice:
    """An authenticator app for one factor. The server accepts each step's code
    once per factor, and only steps after the last one it accepted (the
    previous, current and next step are in its window), so next_code() hands
    out the current step's code, or the one after the last code handed out,
    waiting for the clock when that is more than one step ahead."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.last_step: Optional[int] = None

    def next_code(self) -> str:
        step = totp_step() if self.last_step is None else max(totp_step(), self.last_step + 1)
        while True:
            wait = (step - 1) * TOTP_STEP_SECONDS - time.time()
            if wait <= 0:
                break
            time.sleep(wait + 0.05)
        self.last_step = step
        return totp_code(self.secret, step)

    def wrong_code(self) -> str:
        """Six digits that are no code of this factor within two steps of now."""
        now = totp_step()
        near = {totp_code(self.secret, now + d) for d in range(-2, 3)}
        guess = totp_code(self.secret, now)
        while guess in near:
            guess = f"{(int(guess) + 1) % 1_000_000:06d}"
        return guess
