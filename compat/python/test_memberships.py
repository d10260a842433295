"""Organization memberships. The Python SDK requires the embedded `user` and
the `roles` list on every membership response; these tests fail with
"Unexpected API response while parsing OrganizationMembership" otherwise."""

from __future__ import annotations

import pytest
from workos import NotFoundError
from workos.organization_membership import RoleMultiple, RoleSingle
from workos.organizations import OrganizationDomainData

from support import expect_error, id_pattern, slugs, uid, unique_domain, unique_email


@pytest.fixture(scope="module")
def ctx(workos):
    org = workos.organizations.create_organization(
        name=f"Py memberships {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("members"), state="verified")],
    )
    alice = workos.user_management.create_user(email=unique_email("alice"), first_name="Alice")
    bob = workos.user_management.create_user(email=unique_email("bob"))
    return {"org": org, "alice": alice, "bob": bob}


@pytest.fixture(scope="module")
def m1(workos, ctx):
    return workos.organization_membership.create_organization_membership(
        user_id=ctx["alice"].id,
        organization_id=ctx["org"].id,
        role=RoleSingle(role_slug="admin"),
    )


@pytest.fixture(scope="module")
def m2(workos, ctx):
    return workos.organization_membership.create_organization_membership(
        user_id=ctx["bob"].id,
        organization_id=ctx["org"].id,
        role=RoleMultiple(role_slugs=["admin", "member"]),
    )


def test_create_with_role_slug_embeds_user_and_roles(m1, ctx):
    assert m1.object == "organization_membership"
    assert id_pattern("om").match(m1.id)
    assert m1.user_id == ctx["alice"].id
    assert m1.organization_id == ctx["org"].id
    assert m1.organization_name == ctx["org"].name
    assert m1.status == "active"
    assert m1.directory_managed is False
    assert m1.role.slug == "admin"
    assert slugs(m1.roles) == ["admin"]
    # embedded user
    assert m1.user.id == ctx["alice"].id
    assert m1.user.email == ctx["alice"].email
    assert m1.user.first_name == "Alice"


def test_create_with_role_slugs(m2, ctx):
    assert m2.status == "active"
    assert slugs(m2.roles) == ["admin", "member"]
    assert m2.role.slug == m2.roles[0].slug
    assert m2.user.id == ctx["bob"].id


def test_get_membership(workos, m1, ctx):
    got = workos.organization_membership.get_organization_membership(m1.id)
    assert got.id == m1.id
    assert got.user.id == ctx["alice"].id
    assert slugs(got.roles) == ["admin"]


def test_list_by_organization(workos, m1, m2, ctx):
    page = workos.organization_membership.list_organization_memberships(
        organization_id=ctx["org"].id
    )
    assert sorted(m.id for m in page.data) == sorted([m1.id, m2.id])
    for m in page.data:
        assert m.user.id in (ctx["alice"].id, ctx["bob"].id)
        assert m.roles


def test_list_by_user(workos, m1, ctx):
    page = workos.organization_membership.list_organization_memberships(user_id=ctx["alice"].id)
    assert [m.id for m in page.data] == [m1.id]


def test_update_roles(workos, m1):
    single = workos.organization_membership.update_organization_membership(
        m1.id, role=RoleSingle(role_slug="member")
    )
    assert single.role.slug == "member"
    assert slugs(single.roles) == ["member"]
    multi = workos.organization_membership.update_organization_membership(
        m1.id, role=RoleMultiple(role_slugs=["member", "admin"])
    )
    assert slugs(multi.roles) == ["admin", "member"]
    assert multi.user.id == m1.user_id


def test_deactivate(workos, m1):
    deactivated = workos.organization_membership.deactivate_organization_membership(m1.id)
    assert deactivated.id == m1.id
    assert deactivated.status == "inactive"


def test_list_statuses(workos, m1, m2, ctx):
    org_id = ctx["org"].id
    active = workos.organization_membership.list_organization_memberships(organization_id=org_id)
    assert [m.id for m in active.data] == [m2.id], "default lists only active memberships"
    inactive = workos.organization_membership.list_organization_memberships(
        organization_id=org_id, statuses=["inactive"]
    )
    assert [m.id for m in inactive.data] == [m1.id]
    both = workos.organization_membership.list_organization_memberships(
        organization_id=org_id, statuses=["active", "inactive"]
    )
    assert sorted(m.id for m in both.data) == sorted([m1.id, m2.id])


def test_reactivate_keeps_roles(workos, m1):
    reactivated = workos.organization_membership.reactivate_organization_membership(m1.id)
    assert reactivated.status == "active"
    assert slugs(reactivated.roles) == ["admin", "member"]


def test_delete(workos, m1, m2, ctx):
    workos.organization_membership.delete_organization_membership(m2.id)
    expect_error(
        lambda: workos.organization_membership.get_organization_membership(m2.id),
        NotFoundError,
        404,
    )
    page = workos.organization_membership.list_organization_memberships(
        organization_id=ctx["org"].id, statuses=["active", "inactive", "pending"]
    )
    assert [m.id for m in page.data] == [m1.id]
