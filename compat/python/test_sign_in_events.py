"""Events of the emailed-code, password-reset and invitation flows. The Python
SDK parses each event into the model for its name and requires that model's
keys, so every event name is listed on its own: a shape the SDK rejects fails
the test for that name only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from workos import BadRequestError
from workos._errors import EmailVerificationRequiredError

from support import (
    PLAIN_PASSWORD,
    create_password_user,
    create_unverified_user,
    eventually,
    expect_error,
    id_pattern,
    other_code,
    uid,
    unique_email,
)


@pytest.fixture(scope="module")
def happened(workos, workos_no_retry):
    """Make one event of each name and remember how to recognise it."""
    range_start = (datetime.now(timezone.utc) - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    um = workos.user_management
    org = workos.organizations.create_organization(name=f"Py flow events {uid(3)}")

    unverified = create_unverified_user(workos, "events-verify")
    with pytest.raises(EmailVerificationRequiredError) as info:
        workos_no_retry.user_management.authenticate_with_password(email=unverified.email, password=PLAIN_PASSWORD)
    verification_id = info.value.email_verification_id

    magic_email = unique_email("events-magic")
    magic = um.create_magic_auth(email=magic_email)
    expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_magic_auth(code=other_code(magic.code), email=magic_email),
        BadRequestError,
        400,
    )
    um.authenticate_with_magic_auth(code=magic.code, email=magic_email)

    reset_user = create_password_user(workos, "events-reset")
    expect_error(
        lambda: workos_no_retry.user_management.authenticate_with_password(
            email=reset_user.email, password=PLAIN_PASSWORD + "-wrong"
        ),
        BadRequestError,
        400,
    )
    reset = um.reset_password(email=reset_user.email)
    um.confirm_password_reset(token=reset.password_reset_token, new_password="Events-Reset-Passw0rd!")

    invited = um.send_invitation(email=unique_email("events-invitee"), organization_id=org.id)
    um.resend_invitation(invited.id)
    um.revoke_invitation(invited.id)
    accepting = create_password_user(workos, "events-accept")
    accepted = um.send_invitation(email=accepting.email, organization_id=org.id, role_slug="admin")
    um.accept_invitation(accepted.id)

    return {
        "range_start": range_start,
        "authentication.password_succeeded": lambda d: d.email == unverified.email and d.user_id == unverified.id,
        "authentication.password_failed": lambda d: d.email == reset_user.email,
        "email_verification.created": lambda d: d.id == verification_id,
        "magic_auth.created": lambda d: d.id == magic.id,
        "authentication.magic_auth_failed": lambda d: d.email == magic_email,
        "authentication.magic_auth_succeeded": lambda d: d.email == magic_email and d.user_id == magic.user_id,
        "password_reset.created": lambda d: d.id == reset.id,
        "password_reset.succeeded": lambda d: d.id == reset.id,
        "invitation.created": lambda d: d.id == invited.id,
        "invitation.resent": lambda d: d.id == invited.id,
        "invitation.revoked": lambda d: d.id == invited.id and d.state.value == "revoked",
        "invitation.accepted": lambda d: d.id == accepted.id and d.accepted_user_id == accepting.id,
    }


@pytest.mark.parametrize(
    "name",
    [
        "authentication.password_succeeded",
        "authentication.password_failed",
        "email_verification.created",
        "magic_auth.created",
        "authentication.magic_auth_failed",
        "authentication.magic_auth_succeeded",
        "password_reset.created",
        "password_reset.succeeded",
        "invitation.created",
        "invitation.resent",
        "invitation.revoked",
        "invitation.accepted",
    ],
)
def test_event_parses_into_its_model(workos, happened, name):
    def fetch():
        page = workos.events.list_events(events=[name], range_start=happened["range_start"], limit=100)
        mine = [e for e in page.auto_paging_iter() if happened[name](e.data)]
        assert len(mine) == 1, f"expected one {name} event of this test, got {len(mine)}"
        return mine[0]

    event = eventually(fetch)
    assert event.event == name
    assert id_pattern("event").match(event.id)
    assert type(event).__name__ != "EventSchemaUnknown", event
