"""Events API: the calls made here must show up in `GET /events`, and every
event must deserialize into the SDK's typed event models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from workos.organizations import OrganizationDomainData

from support import eventually, id_pattern, raw_create_membership, uid, unique_domain, unique_email

EVENT_NAMES = [
    "user.created",
    "user.updated",
    "user.deleted",
    "organization.created",
    "organization.updated",
    "organization_membership.created",
]


@pytest.fixture(scope="module")
def ctx(workos):
    range_start = (datetime.now(timezone.utc) - timedelta(seconds=60)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f"
    )[:-3] + "Z"
    org = workos.organizations.create_organization(
        name=f"Py events {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("events"), state="verified")],
    )
    workos.organizations.update_organization(org.id, name=f"{org.name} (renamed)")
    user = workos.user_management.create_user(email=unique_email("events"), first_name="Eve")
    workos.user_management.update_user(user.id, last_name="Nts")
    membership = raw_create_membership(user.id, org.id, "member")
    workos.user_management.delete_user(user.id)
    return {"range_start": range_start, "org": org, "user": user, "membership": membership}


def test_list_events_returns_the_calls_above(workos, ctx):
    user, org, membership = ctx["user"], ctx["org"], ctx["membership"]
    wanted = {
        ("user.created", user.id),
        ("user.updated", user.id),
        ("user.deleted", user.id),
        ("organization.created", org.id),
        ("organization.updated", org.id),
        ("organization_membership.created", membership["id"]),
    }

    def fetch():
        events = list(
            workos.events.list_events(
                events=EVENT_NAMES, range_start=ctx["range_start"], limit=100
            ).auto_paging_iter()
        )
        seen = {(e.event, e.data.id) for e in events}
        missing = wanted - seen
        assert not missing, f"missing events: {sorted(missing)}"
        return events

    events = eventually(fetch)
    for e in events:
        assert e.event in EVENT_NAMES, f"filter leaked {e.event}"
        assert id_pattern("event").match(e.id)
        # typed variant, not the catch-all
        assert type(e).__name__ != "EventSchemaUnknown", e
    created = next(e for e in events if e.event == "user.created" and e.data.id == user.id)
    assert created.data.email == user.email
    om = next(e for e in events if e.event == "organization_membership.created" and e.data.id == membership["id"])
    assert om.data.organization_id == org.id
    assert om.data.user_id == user.id


def test_list_events_by_organization(workos, ctx):
    org, membership = ctx["org"], ctx["membership"]

    def fetch():
        events = list(
            workos.events.list_events(
                events=["organization_membership.created"],
                range_start=ctx["range_start"],
                organization_id=org.id,
                limit=100,
            ).auto_paging_iter()
        )
        assert membership["id"] in {e.data.id for e in events}
        return events

    for e in eventually(fetch):
        assert e.event == "organization_membership.created"
        assert e.data.organization_id == org.id
