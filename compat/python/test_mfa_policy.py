"""TOTP second factors and organization sign-in policies: the WorkOS
auth-factor API (multi_factor_auth.create_user_auth_factor /
list_user_auth_factors / get_factor / challenge_factor / verify_challenge /
delete_factor), the mfa-totp grant (authenticate_with_totp) after the
mfa_enrollment and mfa_challenge step-ups, and Portico's own
per-organization policy API (GET / PUT /organizations/{id}/policy, POST
.../policy/dry_run, plain HTTP: the SDK has no such calls): MFA required now
or after a grace period, the step-up when a refresh switches into an
organization that requires MFA (same session afterwards), the IP allowlist on
refresh, and the 422 that names each malformed rule. Codes are computed here
(RFC 6238) from the factor's secret; each step's code is accepted once per
factor, so a second code within one 30-second step is the next step's
(TotpDevice in support.py)."""

from __future__ import annotations

import re
import time
import urllib.parse
from datetime import datetime

import pytest
from workos import BadRequestError, NotFoundError
from workos._errors import MfaChallengeError, MfaEnrollmentError, OrganizationSelectionRequiredError

from support import (
    ISO_MS,
    MISSING_ORG,
    PLAIN_PASSWORD,
    TotpDevice,
    assert_access_token,
    create_password_user,
    expect_error,
    id_pattern,
    note,
    raw_create_membership,
    raw_request,
    totp_code,
    totp_step,
    uid,
)

MISSING_FACTOR = "auth_factor_01HZZZZZZZZZZZZZZZZZZZZZZZ"
MISSING_CHALLENGE = "auth_challenge_01HZZZZZZZZZZZZZZZZZZZZZZZ"
BASE32 = re.compile(r"^[A-Z2-7]+=*$")
DAY = 24 * 60 * 60


def put_policy(organization_id, body):
    return raw_request("PUT", f"/organizations/{organization_id}/policy", body=body)


def get_policy(organization_id):
    return raw_request("GET", f"/organizations/{organization_id}/policy")


def dry_run(organization_id, body):
    return raw_request("POST", f"/organizations/{organization_id}/policy/dry_run", body=body)


def policy_ok(res, organization_id):
    """Require a 200 policy answer for `organization_id`; return its JSON."""
    assert res.status == 200, f"policy: {res.status} {res.text}"
    assert res.json["object"] == "organization_policy"
    assert res.json["organization_id"] == organization_id
    return res.json


def invalid_fields(res):
    """The `field`s a 422 body names."""
    assert res.status == 422, f"expected 422, got {res.status}: {res.text}"
    assert res.json and res.json.get("code") == "invalid_request_parameters", res.text
    assert res.json.get("errors"), res.text
    for e in res.json["errors"]:
        assert all(isinstance(e.get(k), str) for k in ("field", "code", "message")), e
    return [e["field"] for e in res.json["errors"]]


def parse_iso(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_challenge(challenge, factor_id):
    assert challenge.object == "authentication_challenge"
    assert id_pattern("auth_challenge").match(challenge.id), challenge.id
    assert challenge.authentication_factor_id == factor_id
    assert challenge.code is None, "TOTP challenges carry no code"
    assert challenge.expires_at is not None and challenge.expires_at > challenge.created_at
    assert challenge.updated_at >= challenge.created_at


def member(workos, tag, *organizations):
    """A password user who is an active member of each of `organizations`."""
    user = create_password_user(workos, tag)
    for org in organizations:
        raw_create_membership(user.id, org.id)
    return user


def mfa_required_org(workos, name):
    """An organization whose policy requires MFA now (no grace period)."""
    org = workos.organizations.create_organization(name=f"Py {name} {uid(3)}")
    policy = policy_ok(put_policy(org.id, {"mfa": {"required": True}}), org.id)
    assert policy["mfa"] == {"required": True, "enforced_from": None}, "no grace period: enforced at once"
    return org


def enroll(workos, user_id, **options):
    """Enroll a TOTP factor: (factor, challenge, device)."""
    res = workos.multi_factor_auth.create_user_auth_factor(user_id, type="totp", **options)
    return res.authentication_factor, res.authentication_challenge, TotpDevice(res.authentication_factor.totp.secret)


def password_sign_in(workos, user):
    return workos.user_management.authenticate_with_password(email=user.email, password=PLAIN_PASSWORD)


# ---- the auth-factor API -------------------------------------------------------


def test_enroll_list_get_challenge_verify_delete(workos, workos_no_retry):
    mfa = workos.multi_factor_auth
    user = create_password_user(workos, "mfa-factor")
    issuer = f"Py Compat {uid(3)}"
    account = f"{user.email} (work)"
    factor, challenge, device = enroll(workos, user.id, totp_issuer=issuer, totp_user=account)

    assert factor.object == "authentication_factor"
    assert id_pattern("auth_factor").match(factor.id), factor.id
    assert factor.type == "totp"
    assert factor.user_id == user.id
    assert factor.updated_at >= factor.created_at
    assert factor.totp.issuer == issuer
    assert factor.totp.user == account
    assert BASE32.match(factor.totp.secret), factor.totp.secret
    assert len(factor.totp.secret.rstrip("=")) >= 16, "at least 80 bits"
    assert re.match(r"^data:image/png;base64,[A-Za-z0-9+/]+=*$", factor.totp.qr_code), factor.totp.qr_code[:60]
    assert factor.totp.uri.startswith("otpauth://totp/"), factor.totp.uri
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(factor.totp.uri).query))
    assert query.get("secret") == factor.totp.secret, "the URI carries the secret"
    assert query.get("issuer") == issuer, "the URI carries the issuer"
    assert_challenge(challenge, factor.id)

    # Defaults: the account is the user's email; an imported secret is kept.
    imported = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    second, _, _ = enroll(workos, user.id, totp_secret=imported)
    assert second.totp.user == user.email, "totp_user defaults to the email"
    assert isinstance(second.totp.issuer, str) and second.totp.issuer, "totp_issuer has a default"
    assert second.totp.secret == imported, "totp_secret is used as given"

    # List: both factors, no secrets.
    listed = mfa.list_user_auth_factors(user.id).data
    assert sorted(f.id for f in listed) == sorted([factor.id, second.id])
    mine = next(f for f in listed if f.id == factor.id)
    assert mine.object == "authentication_factor"
    assert mine.type == "totp"
    assert mine.user_id == user.id
    assert (mine.totp.issuer, mine.totp.user) == (issuer, account)
    raw_list = raw_request("GET", f"/user_management/users/{user.id}/auth_factors")
    assert raw_list.status == 200, raw_list.text
    for f in raw_list.json["data"]:
        for secret_field in ("secret", "qr_code", "uri"):
            assert secret_field not in f["totp"], f"a listed factor carries no {secret_field}"

    # Get: no secrets either.
    got = mfa.get_factor(factor.id)
    assert got.id == factor.id
    assert got.type == "totp"
    assert (got.totp.issuer, got.totp.user) == (issuer, account)
    raw_got = raw_request("GET", f"/auth/factors/{factor.id}")
    assert raw_got.status == 200, raw_got.text
    assert raw_got.json["user_id"] == user.id
    assert "secret" not in raw_got.json["totp"], "a fetched factor carries no secret"

    # Challenge and verify.
    fresh = mfa.challenge_factor(factor.id)
    assert_challenge(fresh, factor.id)
    assert fresh.id != challenge.id
    wrong = mfa.verify_challenge(fresh.id, code=device.wrong_code())
    assert wrong.valid is False, "a wrong code is not valid"
    assert wrong.challenge.id == fresh.id
    right = mfa.verify_challenge(fresh.id, code=device.next_code())
    assert right.valid is True, "the current code is valid"
    assert right.challenge.id == fresh.id
    assert_challenge(right.challenge, factor.id)

    # A verified challenge cannot be answered again.
    err = expect_error(
        lambda: workos_no_retry.multi_factor_auth.verify_challenge(
            fresh.id, code=totp_code(factor.totp.secret, totp_step() + 1)
        ),
        BadRequestError,
        400,
    )
    assert err.code == "authentication_challenge_previously_verified", err
    note(f"python: reused challenge -> {type(err).__name__} (HTTP {err.status_code}): {err}")

    # The verified factor now counts for sign-in (no policy needed); the
    # unverified one is not offered.
    with pytest.raises(MfaChallengeError) as info:
        password_sign_in(workos_no_retry, user)
    assert info.value.authentication_factors == [{"id": factor.id, "type": "totp"}]

    # Delete: gone from get and list; without a verified factor, no challenge.
    mfa.delete_factor(factor.id)
    expect_error(lambda: workos_no_retry.multi_factor_auth.get_factor(factor.id), NotFoundError, 404)
    expect_error(lambda: workos_no_retry.multi_factor_auth.delete_factor(factor.id), NotFoundError, 404)
    assert [f.id for f in mfa.list_user_auth_factors(user.id).data] == [second.id]
    res = password_sign_in(workos, user)
    assert res.user.id == user.id, "with only an unverified factor left, sign-in needs no second factor"


def test_unknown_factors_and_challenges(workos_no_retry):
    mfa = workos_no_retry.multi_factor_auth
    expect_error(lambda: mfa.get_factor(MISSING_FACTOR), NotFoundError, 404)
    expect_error(lambda: mfa.challenge_factor(MISSING_FACTOR), NotFoundError, 404)
    expect_error(lambda: mfa.verify_challenge(MISSING_CHALLENGE, code="123456"), NotFoundError, 404)


# ---- sign-in under an MFA policy ---------------------------------------------------


def test_mfa_required_enrollment_then_challenge(workos, workos_no_retry):
    um = workos.user_management
    org = mfa_required_org(workos, "MFA Required")
    user = member(workos, "mfa-required", org)

    # First sign-in: no factor yet -> enroll.
    with pytest.raises(MfaEnrollmentError) as info:
        password_sign_in(workos_no_retry, user)
    enrollment = info.value
    assert enrollment.status_code == 403
    assert enrollment.code == "mfa_enrollment"
    assert isinstance(enrollment.pending_authentication_token, str) and enrollment.pending_authentication_token
    assert enrollment.user is not None and enrollment.user["id"] == user.id
    assert enrollment.user["object"] == "user"
    note(f"python: MFA enrollment required -> {type(enrollment).__name__} (HTTP {enrollment.status_code}): {enrollment}")

    factor, challenge, device = enroll(workos, user.id)
    first = um.authenticate_with_totp(
        code=device.next_code(),
        pending_authentication_token=enrollment.pending_authentication_token,
        authentication_challenge_id=challenge.id,
    )
    assert first.user.id == user.id
    assert first.organization_id == org.id, "scoped to the organization that asked for MFA"
    assert first.authentication_method is not None and first.authentication_method.value == "Password"
    first_claims = assert_access_token(workos, first.access_token, user_id=user.id)
    assert first_claims["org_id"] == org.id
    assert first_claims["role"] == "member"

    # The pending token is single use.
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_totp(
            code=device.wrong_code(),
            pending_authentication_token=enrollment.pending_authentication_token,
            authentication_challenge_id=challenge.id,
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_pending_authentication_token", err

    # Next sign-in: the verified factor is challenged.
    with pytest.raises(MfaChallengeError) as info:
        password_sign_in(workos_no_retry, user)
    challenged = info.value
    assert challenged.status_code == 403
    assert challenged.code == "mfa_challenge"
    assert isinstance(challenged.pending_authentication_token, str) and challenged.pending_authentication_token
    assert challenged.pending_authentication_token != enrollment.pending_authentication_token
    assert challenged.user is not None and challenged.user["id"] == user.id
    assert challenged.authentication_factors == [{"id": factor.id, "type": "totp"}]
    note(f"python: MFA challenge -> {type(challenged).__name__} (HTTP {challenged.status_code}): {challenged}")

    nxt = workos.multi_factor_auth.challenge_factor(factor.id)
    assert_challenge(nxt, factor.id)

    # A wrong code is refused; the pending token stays usable.
    err = expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_totp(
            code=device.wrong_code(),
            pending_authentication_token=challenged.pending_authentication_token,
            authentication_challenge_id=nxt.id,
        ),
        BadRequestError,
        400,
    )
    assert err.code == "invalid_one_time_code", err
    note(f"python: wrong TOTP code -> {type(err).__name__} (HTTP {err.status_code}): {err}")

    second = um.authenticate_with_totp(
        code=device.next_code(),
        pending_authentication_token=challenged.pending_authentication_token,
        authentication_challenge_id=nxt.id,
    )
    assert second.user.id == user.id
    assert second.organization_id == org.id
    second_claims = assert_access_token(workos, second.access_token, user_id=user.id)
    assert second_claims["org_id"] == org.id
    assert second_claims["sid"] != first_claims["sid"], "a new sign-in is a new session"

    # The session that passed MFA refreshes without another step-up.
    refreshed = um.authenticate_with_refresh_token(refresh_token=second.refresh_token)
    assert refreshed.organization_id == org.id
    assert_access_token(workos, refreshed.access_token, user_id=user.id, session_id=second_claims["sid"])


def test_mfa_grace_period(workos):
    org = workos.organizations.create_organization(name=f"Py MFA Grace {uid(3)}")
    user = create_password_user(workos, "mfa-grace")
    membership = raw_create_membership(user.id, org.id)
    body = {"mfa": {"required": True, "grace_period_days": 7}}

    before = time.time()
    saved = policy_ok(put_policy(org.id, body), org.id)
    assert saved["mfa"]["required"] is True
    assert ISO_MS.match(saved["mfa"]["enforced_from"] or ""), saved["mfa"]
    enforced_from = parse_iso(saved["mfa"]["enforced_from"]).timestamp()
    assert before + 7 * DAY - 1 <= enforced_from <= time.time() + 7 * DAY + 1, saved["mfa"]["enforced_from"]
    assert saved["revoked_session_count"] == 0
    assert saved["ip_allowlist"] is None, "absent rules are off"
    assert saved["allowed_authentication_methods"] is None
    assert ISO_MS.match(saved["created_at"]) and ISO_MS.match(saved["updated_at"]), saved

    # During the grace period a member without a factor signs in normally.
    res = password_sign_in(workos, user)
    assert res.user.id == user.id
    assert res.organization_id == org.id
    assert assert_access_token(workos, res.access_token, user_id=user.id)["org_id"] == org.id

    # The dry run names the member and the rule.
    dry = dry_run(org.id, body)
    assert dry.status == 200, dry.text
    assert dry.json["object"] == "organization_policy_dry_run"
    assert dry.json["member_count"] == 1
    assert dry.json["affected_member_count"] == 1
    assert isinstance(dry.json["sessions_ended_by_enforce_now"], int)
    assert len(dry.json["members"]) == 1
    row = dry.json["members"][0]
    assert row["organization_membership_id"] == membership["id"]
    assert row["user_id"] == user.id
    assert row["email"] == user.email
    assert isinstance(row["sessions_ended_by_enforce_now"], int)
    finding = next((f for f in row["findings"] if f["rule"] == "mfa"), None)
    assert finding is not None, row["findings"]
    assert isinstance(finding["code"], str) and isinstance(finding["message"], str)

    # GET shows the saved deadline (a dry run changes nothing).
    got = policy_ok(get_policy(org.id), org.id)
    assert got["mfa"] == saved["mfa"]
    assert got["session"] == {
        "max_lifetime_seconds": None,
        "idle_timeout_seconds": None,
        "reauthentication_interval_seconds": None,
    }
    assert got["break_glass_user_id"] is None


def test_switch_into_mfa_organization_steps_up_and_keeps_the_session(workos, workos_no_retry):
    um = workos.user_management
    org_a = mfa_required_org(workos, "MFA Switch A")
    org_b = workos.organizations.create_organization(name=f"Py MFA Switch B {uid(3)}")
    user = member(workos, "mfa-switch", org_a, org_b)

    # Two memberships: the organization is chosen first, then B's (empty) policy applies.
    with pytest.raises(OrganizationSelectionRequiredError) as info:
        password_sign_in(workos_no_retry, user)
    in_b = um.authenticate_with_organization_selection(
        pending_authentication_token=info.value.pending_authentication_token, organization_id=org_b.id
    )
    assert in_b.organization_id == org_b.id
    sid = assert_access_token(workos, in_b.access_token, user_id=user.id)["sid"]

    # Into A: the session has not passed MFA -> step-up.
    with pytest.raises(MfaEnrollmentError) as info:
        workos_no_retry.user_management.authenticate_with_refresh_token(
            refresh_token=in_b.refresh_token, organization_id=org_a.id
        )
    step_up = info.value
    assert step_up.status_code == 403
    assert step_up.code == "mfa_enrollment"
    assert isinstance(step_up.pending_authentication_token, str) and step_up.pending_authentication_token
    assert step_up.user is not None and step_up.user["id"] == user.id
    note(f"python: switch into an MFA organization -> {type(step_up).__name__} (HTTP {step_up.status_code})")

    _, challenge, device = enroll(workos, user.id)
    in_a = um.authenticate_with_totp(
        code=device.next_code(),
        pending_authentication_token=step_up.pending_authentication_token,
        authentication_challenge_id=challenge.id,
    )
    assert in_a.user.id == user.id
    assert in_a.organization_id == org_a.id
    claims = assert_access_token(workos, in_a.access_token, user_id=user.id, session_id=sid)
    assert claims["org_id"] == org_a.id, "the same session, now in A"
    assert claims["role"] == "member"


# ---- IP allowlist ------------------------------------------------------------------


def test_ip_allowlist_refuses_refresh_from_elsewhere(workos, workos_no_retry):
    um = workos.user_management
    org = workos.organizations.create_organization(name=f"Py IP Allowlist {uid(3)}")
    user = member(workos, "ip-allow", org)
    sign_in = password_sign_in(workos, user)
    assert sign_in.organization_id == org.id
    sid = assert_access_token(workos, sign_in.access_token, user_id=user.id)["sid"]

    saved = policy_ok(put_policy(org.id, {"ip_allowlist": ["203.0.113.0/24"], "enforce_now": False}), org.id)
    assert saved["ip_allowlist"] == ["203.0.113.0/24"]
    assert saved["mfa"]["required"] is False, "absent rules are off"
    assert saved["revoked_session_count"] == 0

    for ip_address in ("198.51.100.7", None):
        err = expect_error(
            lambda: workos_no_retry.user_management.authenticate_with_refresh_token(
                refresh_token=sign_in.refresh_token, ip_address=ip_address
            ),
            BadRequestError,
            400,
        )
        assert err.error == "access_denied", f"refresh from {ip_address or 'the caller (127.0.0.1)'}: {err}"
        assert isinstance(err.error_description, str) and err.error_description
    note(f"python: refresh from outside the IP allowlist -> {type(err).__name__} (HTTP {err.status_code}): {err}")

    res = um.authenticate_with_refresh_token(refresh_token=sign_in.refresh_token, ip_address="203.0.113.9")
    assert res.refresh_token != sign_in.refresh_token
    assert res.organization_id == org.id
    assert_access_token(workos, res.access_token, user_id=user.id, session_id=sid)


# ---- validation ----------------------------------------------------------------------


def test_malformed_policy_names_each_field(workos):
    org = workos.organizations.create_organization(name=f"Py Policy Invalid {uid(3)}")
    bad = {"mfa": {"required": True, "grace_period_days": 365}, "ip_allowlist": ["not-a-network"]}
    fields = invalid_fields(put_policy(org.id, bad))
    assert "mfa.grace_period_days" in fields, fields
    assert "ip_allowlist[0]" in fields, fields
    assert "ip_allowlist[0]" in invalid_fields(dry_run(org.id, bad)), "the dry run checks the same"
    assert invalid_fields(put_policy(org.id, {"mfa": {"required": True, "grace_period_days": -1}})) == [
        "mfa.grace_period_days"
    ]
    assert invalid_fields(put_policy(org.id, {"ip_allowlist": ["10.0.0.0/8", "300.1.2.3"]})) == ["ip_allowlist[1]"]

    got = policy_ok(get_policy(org.id), org.id)
    assert got["mfa"]["required"] is False, "nothing was saved"
    assert got["ip_allowlist"] is None


def test_policy_of_unknown_organization():
    for res in (
        get_policy(MISSING_ORG),
        put_policy(MISSING_ORG, {"mfa": {"required": True}}),
        dry_run(MISSING_ORG, {"mfa": {"required": True}}),
    ):
        assert res.status == 404, res.text
        assert isinstance((res.json or {}).get("message"), str), res.text
