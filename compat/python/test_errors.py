"""Error responses must map onto the SDK's own exception classes."""

from __future__ import annotations

import pytest
from workos import AuthenticationError, NotFoundError, UnprocessableEntityError
from workos.organizations import OrganizationDomainData

from support import (
    MISSING_ORG,
    MISSING_USER,
    expect_client_error,
    expect_error,
    make_client,
    note,
    uid,
    unique_domain,
    unique_email,
)


@pytest.fixture(scope="module")
def org(workos_no_retry):
    return workos_no_retry.organizations.create_organization(
        name=f"Py errors {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("errors"), state="verified")],
    )


def test_404_unknown_user(workos_no_retry):
    err = expect_error(lambda: workos_no_retry.user_management.get_user(MISSING_USER), NotFoundError, 404)
    assert err.request_id, "X-Request-ID is carried into the error"


def test_404_unknown_organization(workos_no_retry):
    expect_error(lambda: workos_no_retry.organizations.get_organization(MISSING_ORG), NotFoundError, 404)


def test_401_wrong_api_key():
    bad = make_client(api_key=f"sk_test_wrong_{uid()}", max_retries=0)
    expect_error(lambda: bad.user_management.list_users(), AuthenticationError, 401)
    expect_error(lambda: bad.organizations.get_organization(MISSING_ORG), AuthenticationError, 401)


def test_422_invalid_email(workos_no_retry):
    err = expect_error(
        lambda: workos_no_retry.user_management.create_user(email="not-an-email"),
        UnprocessableEntityError,
        422,
    )
    note(f"python: invalid email -> {err}")


def test_duplicate_email(workos_no_retry):
    email = unique_email("dup")
    workos_no_retry.user_management.create_user(email=email)
    err = expect_client_error(lambda: workos_no_retry.user_management.create_user(email=email))
    note(f"python: duplicate email -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_duplicate_user_external_id(workos_no_retry):
    external_id = f"py-dup-ext-{uid()}"
    workos_no_retry.user_management.create_user(email=unique_email("dupext1"), external_id=external_id)
    err = expect_client_error(
        lambda: workos_no_retry.user_management.create_user(
            email=unique_email("dupext2"), external_id=external_id
        )
    )
    note(f"python: duplicate user external_id -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_duplicate_organization_external_id(workos_no_retry):
    external_id = f"py-dup-org-ext-{uid()}"
    workos_no_retry.organizations.create_organization(name=f"Dup A {uid()}", external_id=external_id)
    err = expect_client_error(
        lambda: workos_no_retry.organizations.create_organization(
            name=f"Dup B {uid()}", external_id=external_id
        )
    )
    note(f"python: duplicate organization external_id -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_list_memberships_without_filter(workos_no_retry):
    err = expect_client_error(
        lambda: workos_no_retry.organization_membership.list_organization_memberships()
    )
    note(f"python: memberships list without filter -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_membership_with_unknown_role(workos_no_retry, org):
    from workos.organization_membership import RoleSingle

    user = workos_no_retry.user_management.create_user(email=unique_email("badrole"))
    err = expect_client_error(
        lambda: workos_no_retry.organization_membership.create_organization_membership(
            user_id=user.id, organization_id=org.id, role=RoleSingle(role_slug=f"no-such-role-{uid()}")
        )
    )
    note(f"python: unknown role slug -> {type(err).__name__} (HTTP {err.status_code}): {err}")


def test_membership_in_unknown_organization(workos_no_retry):
    user = workos_no_retry.user_management.create_user(email=unique_email("badorg"))
    err = expect_client_error(
        lambda: workos_no_retry.organization_membership.create_organization_membership(
            user_id=user.id, organization_id=MISSING_ORG
        )
    )
    note(f"python: unknown organization -> {type(err).__name__} (HTTP {err.status_code}): {err}")
