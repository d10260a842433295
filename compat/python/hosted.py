"""A small HTTP driver for Portico's hosted sign-in pages (no browser): it
opens an authorization URL, keeps the cookies the pages set, posts their
forms with the CSRF token, and follows the flow to the redirect back to the
app, where the authorization code is.

    flow = open_authorization_url(url)            # 302 -> /sign-in
    done = sign_in_with_password(flow, email=..., password=...)
    done.params["code"], done.params["state"]
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from support import PORTICO_URL

# The bootstrap client's redirect URI (allowed for authorization codes).
REDIRECT_URI = "http://localhost:3000/callback"


class CookieJar:
    """The cookies one browser holds for the server (name -> value)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        # The hidden `flow` field of the last hosted page seen.
        self.flow_tag: Optional[str] = None
        # The User-Agent header this browser sends (None: urllib's own).
        self.user_agent: Optional[str] = None
        # The origin the browser is on: where relative targets (a page's
        # redirects) go. Passkeys need PORTICO_PASSKEY_URL (see on_origin).
        self.origin: str = PORTICO_URL

    def store(self, headers: Any) -> None:
        for line in headers.get_all("Set-Cookie") or []:
            pair, *attributes = line.split(";")
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                continue
            expired = any(re.fullmatch(r"\s*max-age\s*=\s*0\s*", a, re.I) for a in attributes)
            if expired:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def get(self, name: str) -> Optional[str]:
        return self.cookies.get(name)

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


@dataclass
class Page:
    status: int
    location: Optional[str]
    headers: Any
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def browse(
    jar: CookieJar,
    target: str,
    form: Optional[dict[str, str]] = None,
    headers: Optional[dict[str, str]] = None,
) -> Page:
    """One request as a browser would make it (same-origin, cookies from `jar`),
    without following redirects. `form` posts application/x-www-form-urlencoded;
    `headers` are added to (or replace) the browser's own."""
    url = urllib.parse.urljoin(f"{jar.origin}/", target)
    sent = {"Accept": "text/html"}
    if jar.user_agent is not None:
        sent["User-Agent"] = jar.user_agent
    if jar.cookies:
        sent["Cookie"] = jar.header()
    sent.update(headers or {})
    data = None
    method = "GET"
    if form is not None:
        # Forms carry the hidden `flow` field of the page they came from, as a browser's would.
        if jar.flow_tag is not None and "flow" not in form:
            form = {"flow": jar.flow_tag, **form}
        data = urllib.parse.urlencode(form).encode()
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        method = "POST"
    req = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with _OPENER.open(req, timeout=30) as res:
            status, res_headers, raw = res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        status, res_headers, raw = e.code, e.headers, e.read()
    jar.store(res_headers)
    text = raw.decode("utf-8", "replace")
    flow_tag = hidden_input(text, "flow")
    if flow_tag is not None:
        jar.flow_tag = flow_tag
    return Page(status, res_headers.get("Location"), res_headers, text)


def on_origin(url: str, origin: str) -> str:
    """`url` (e.g. one the API made on PORTICO_URL) on another origin, path and query kept."""
    parts = urllib.parse.urlsplit(url)
    target = urllib.parse.urlsplit(origin)
    return urllib.parse.urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def hidden_input(html: str, name: str) -> Optional[str]:
    """The value of the hidden input `name` in an HTML page (None if absent)."""
    for tag in re.findall(r"<input\b[^>]*>", html, re.I):
        if not re.search(rf'\bname="{re.escape(name)}"', tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        return value.group(1) if value else ""
    return None


@dataclass
class Flow:
    jar: CookieJar
    status: int
    location: Optional[str]
    page: Page


def open_authorization_url(url: str) -> Flow:
    """GET an authorization URL without following the redirect."""
    jar = CookieJar()
    page = browse(jar, url)
    return Flow(jar=jar, status=page.status, location=page.location, page=page)


def form_page(jar: CookieJar, path: str) -> tuple[Page, str]:
    """GET a hosted page; return it with its form's CSRF token."""
    page = browse(jar, path)
    assert page.status == 200, f"GET {path}: {page.status} {page.text[:300]}"
    csrf = hidden_input(page.text, "csrf_token")
    assert csrf, f"GET {path} has a csrf_token field"
    assert jar.get("portico_csrf") == csrf, "the csrf_token field equals the portico_csrf cookie"
    return page, csrf


@dataclass
class Done:
    location: str
    params: dict[str, str]
    steps: list[str] = field(default_factory=list)
    # With `stop_at`: the page the flow stopped at (params is then empty).
    stopped: Optional[str] = None


def sign_in_with_password(
    flow: Flow,
    *,
    email: str,
    password: str,
    organization_id: Optional[str] = None,
    verification_code: Optional[Callable[[], str]] = None,
    redirect_uri: str = REDIRECT_URI,
    stop_at: Optional[str] = None,
) -> Done:
    """Sign in on the hosted pages with a password, starting from the 302 of
    `open_authorization_url`: email page, password page, then (when the server
    asks) the organization choice or email verification (`verification_code`
    returns the emailed code). Returns the redirect back to the app; with
    `stop_at` (a page such as "/mfa/setup") it returns as soon as the flow is
    sent there, with `stopped` set (the cookies are in `flow.jar`)."""
    jar = flow.jar
    assert flow.status == 302, f"authorize answered {flow.status}: {flow.page.text[:300]}"
    assert flow.location == "/sign-in", "authorize sends the browser to the sign-in page"
    assert jar.get("portico_flow"), "authorize sets the portico_flow cookie"
    steps: list[str] = []

    _, csrf = form_page(jar, "/sign-in")
    after_email = browse(jar, "/sign-in", form={"csrf_token": csrf, "email": email})
    assert after_email.status == 303, f"POST /sign-in: {after_email.status} {after_email.text[:300]}"
    assert after_email.location == "/sign-in/password"

    form_page(jar, "/sign-in/password")
    nxt = browse(jar, "/sign-in/password", form={"csrf_token": csrf, "password": password})
    assert nxt.status == 303, f"POST /sign-in/password: {nxt.status} {nxt.text[:300]}"

    for _ in range(4):
        location = nxt.location or ""
        if location.startswith(f"{redirect_uri}?"):
            query = urllib.parse.urlsplit(location).query
            return Done(location=location, params=dict(urllib.parse.parse_qsl(query)), steps=steps)
        steps.append(location)
        if location == stop_at:
            return Done(location=location, params={}, steps=steps, stopped=location)
        if location == "/verify-email":
            assert verification_code is not None, "the flow asks for email verification"
            form_page(jar, "/verify-email")
            nxt = browse(jar, "/verify-email", form={"csrf_token": csrf, "code": verification_code()})
        elif location == "/choose-organization":
            assert organization_id is not None, "the flow asks for an organization"
            page, _ = form_page(jar, "/choose-organization")
            assert f'value="{organization_id}"' in page.text, f"the choice lists {organization_id}"
            nxt = browse(
                jar, "/choose-organization", form={"csrf_token": csrf, "organization_id": organization_id}
            )
        else:
            raise AssertionError(f"unexpected redirect to {location}")
        assert nxt.status == 303, f"POST {location}: {nxt.status} {nxt.text[:300]}"
    raise AssertionError("the hosted flow did not come back to the redirect URI")


def passkey_options(jar: CookieJar, csrf: str, purpose: str) -> Page:
    """Ask the current hosted page's flow for a passkey ceremony, as the pages'
    script does (`fetch` from the page, hence Sec-Fetch-Site: same-origin):
    `purpose` is sign_in, second_factor, register or confirm. The answer is
    JSON (the options, or {error, message}); parse `page.text`."""
    return browse(
        jar,
        "/passkeys/options",
        form={"csrf_token": csrf, "purpose": purpose},
        headers={"Accept": "application/json", "Sec-Fetch-Site": "same-origin"},
    )
