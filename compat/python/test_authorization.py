"""Roles and permissions through the `authorization` module."""

from __future__ import annotations

import pytest
from workos import NotFoundError
from workos.organizations import OrganizationDomainData

from support import (
    expect_client_error,
    expect_error,
    id_pattern,
    note,
    raw_create_membership,
    raw_request,
    uid,
    unique_domain,
    unique_email,
)


def assert_role(role, role_type):
    assert role.object == "role"
    assert id_pattern("role").match(role.id)
    assert role.type == role_type
    assert isinstance(role.resource_type_slug, str)
    assert isinstance(role.permissions, list)


def assert_permission(p):
    assert p.object == "permission"
    assert id_pattern("perm").match(p.id)
    assert isinstance(p.resource_type_slug, str)
    assert p.system is False


@pytest.fixture(scope="module")
def names():
    u = uid(3)
    return {
        "read": f"py-compat-{u}:read",
        "write": f"py-compat-{u}:write",
        "audit": f"py-compat-{u}:audit",
        "doomed": f"py-compat-{u}:doomed",
        "env_role": f"py-compat-env-{u}",
        "org_role": f"org-py-compat-{u}",
        "prefix": f"py-compat-{u}",
    }


@pytest.fixture(scope="module")
def org(workos):
    return workos.organizations.create_organization(
        name=f"Py roles {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("roles"), state="verified")],
    )


# ---- permissions -----------------------------------------------------------


def test_create_permission(workos, names):
    p = workos.authorization.create_permission(
        slug=names["read"], name="Read things", description="Can read"
    )
    assert_permission(p)
    assert p.slug == names["read"]
    assert p.name == "Read things"
    assert p.description == "Can read"
    for key in ("write", "audit", "doomed"):
        assert workos.authorization.create_permission(slug=names[key], name=key).slug == names[key]


def test_get_permission(workos, names):
    p = workos.authorization.get_permission(names["read"])
    assert_permission(p)
    assert p.slug == names["read"]


def test_update_permission(workos, names):
    p = workos.authorization.update_permission(
        names["read"], name="Read everything", description="Updated"
    )
    assert p.name == "Read everything"
    assert p.description == "Updated"


def test_list_permissions(workos, names):
    listed = list(workos.authorization.list_permissions(limit=100).auto_paging_iter())
    found = {p.slug for p in listed}
    for key in ("read", "write", "audit", "doomed"):
        assert names[key] in found, f"missing {names[key]}"


def test_delete_permission(workos, names):
    workos.authorization.delete_permission(names["doomed"])
    expect_error(lambda: workos.authorization.get_permission(names["doomed"]), NotFoundError, 404)


# ---- environment roles -----------------------------------------------------


def test_list_environment_roles(workos):
    roles = workos.authorization.list_environment_roles()
    by_slug = {r.slug: r for r in roles.data}
    assert "admin" in by_slug and "member" in by_slug
    for r in roles.data:
        assert_role(r, "EnvironmentRole")


def test_create_environment_role(workos, names):
    role = workos.authorization.create_environment_role(
        slug=names["env_role"], name="Py env role", description="first"
    )
    assert_role(role, "EnvironmentRole")
    assert role.slug == names["env_role"]
    assert role.description == "first"
    assert role.permissions == []


def test_get_environment_role(workos, names):
    role = workos.authorization.get_environment_role(names["env_role"])
    assert role.slug == names["env_role"]
    assert workos.authorization.get_environment_role("admin").slug == "admin"


def test_update_environment_role(workos, names):
    role = workos.authorization.update_environment_role(
        names["env_role"], name="Py env role 2", description="second"
    )
    assert role.name == "Py env role 2"
    assert role.description == "second"


def test_environment_role_permissions(workos, names):
    slug = names["env_role"]
    role = workos.authorization.set_environment_role_permissions(
        slug, permissions=[names["read"], names["write"]]
    )
    assert sorted(role.permissions) == sorted([names["read"], names["write"]])
    role = workos.authorization.add_environment_role_permission(slug, body_slug=names["audit"])
    assert sorted(role.permissions) == sorted([names["read"], names["write"], names["audit"]])
    role = workos.authorization.set_environment_role_permissions(slug, permissions=[names["write"]])
    assert role.permissions == [names["write"]]
    assert workos.authorization.get_environment_role(slug).permissions == [names["write"]]


# ---- organization roles ----------------------------------------------------


def test_create_organization_role(workos, org, names):
    role = workos.authorization.create_organization_role(
        org.id, name="Py org role", slug=names["org_role"], description="org scoped"
    )
    assert_role(role, "OrganizationRole")
    assert role.slug == names["org_role"]
    assert role.permissions == []


def test_list_organization_roles(workos, org, names):
    roles = workos.authorization.list_organization_roles(org.id)
    by_slug = {r.slug: r for r in roles.data}
    assert {"admin", "member", names["org_role"]} <= set(by_slug)
    assert by_slug["admin"].type == "EnvironmentRole"
    assert by_slug[names["org_role"]].type == "OrganizationRole"


def test_get_organization_role(workos, org, names):
    role = workos.authorization.get_organization_role(org.id, names["org_role"])
    assert_role(role, "OrganizationRole")
    env = workos.authorization.get_organization_role(org.id, "member")
    assert env.type == "EnvironmentRole"


def test_update_organization_role(workos, org, names):
    role = workos.authorization.update_organization_role(
        org.id, names["org_role"], name="Py renamed", description="changed"
    )
    assert role.name == "Py renamed"
    assert role.description == "changed"


def test_organization_role_permissions(workos, org, names):
    slug = names["org_role"]
    role = workos.authorization.set_organization_role_permissions(
        org.id, slug, permissions=[names["read"], names["write"]]
    )
    assert sorted(role.permissions) == sorted([names["read"], names["write"]])
    role = workos.authorization.add_organization_role_permission(
        org.id, slug, body_slug=names["audit"]
    )
    assert sorted(role.permissions) == sorted([names["read"], names["write"], names["audit"]])
    workos.authorization.remove_organization_role_permission(org.id, slug, names["read"])
    role = workos.authorization.get_organization_role(org.id, slug)
    assert sorted(role.permissions) == sorted([names["write"], names["audit"]])


def test_delete_assigned_organization_role_fails(workos, org, names):
    slug = names["org_role"]
    user = workos.user_management.create_user(email=unique_email("roleholder"))
    membership = raw_create_membership(user.id, org.id, slug)
    assert membership["role"]["slug"] == slug
    err = expect_client_error(lambda: workos.authorization.delete_organization_role(org.id, slug))
    note(f"python: delete of an assigned role -> {type(err).__name__} (HTTP {err.status_code})")
    assert workos.authorization.get_organization_role(org.id, slug).slug == slug

    res = raw_request(
        "PUT",
        f"/user_management/organization_memberships/{membership['id']}",
        body={"role_slug": "member"},
    )
    assert res.status == 200, res.text
    workos.authorization.delete_organization_role(org.id, slug)
    expect_error(
        lambda: workos.authorization.get_organization_role(org.id, slug), NotFoundError, 404
    )
