"""Idempotency-Key replay through the SDK's request_options and raw HTTP."""

from __future__ import annotations

from support import raw_request, uid, unique_email


def test_create_user_with_same_idempotency_key(workos):
    email = unique_email("idem")
    key = f"py-idem-{uid()}"
    a = workos.user_management.create_user(email=email, request_options={"idempotency_key": key})
    b = workos.user_management.create_user(email=email, request_options={"idempotency_key": key})
    assert a.id == b.id
    assert [u.id for u in workos.user_management.list_users(email=email).data] == [a.id]


def test_create_organization_with_same_idempotency_key(workos):
    key = f"py-idem-org-{uid()}"
    name = f"Py idem {uid()}"
    a = workos.organizations.create_organization(name=name, request_options={"idempotency_key": key})
    b = workos.organizations.create_organization(name=name, request_options={"idempotency_key": key})
    assert a.id == b.id


def test_raw_replay_returns_same_body():
    email = unique_email("idemraw")
    key = f"py-raw-{uid()}"
    body = {"email": email}
    a = raw_request("POST", "/user_management/users", body=body, headers={"Idempotency-Key": key})
    b = raw_request("POST", "/user_management/users", body=body, headers={"Idempotency-Key": key})
    assert 200 <= a.status < 300, a.text
    assert 200 <= b.status < 300, b.text
    assert a.json["id"] == b.json["id"]
