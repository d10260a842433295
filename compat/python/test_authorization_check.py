"""Permission checks through `authorization.check` (parsed strictly into
AuthorizationCheck). The Python SDK always names a resource target: the
membership's own organization by id (ResourceTargetById) or by external id
(ResourceTargetByExternalId, resource_type_slug "organization") answers from
the membership's roles, another organization answers False. Role and
membership changes apply to the very next check; refusals map onto the SDK's
exception classes. Also the batch form, POST .../checks (a Portico extension
without an SDK method), and a check without a resource, over plain HTTP."""

from __future__ import annotations

import pytest
from workos import NotFoundError, UnprocessableEntityError
from workos.authorization import AuthorizationCheck, ResourceTargetByExternalId, ResourceTargetById
from workos.organization_membership import RoleMultiple, RoleSingle

from support import MISSING_ORG, expect_error, raw_request, uid, unique_email

MISSING_MEMBERSHIP = "om_01HZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.fixture(scope="module")
def world(workos):
    """Own permissions and roles (no concurrent test changes them): the
    environment role grants read, the organization role (in org A) audit.
    `membership` holds the environment role in org A, `dual` both roles."""
    u = uid(3)
    names = {
        "read": f"py-chk-{u}:read",
        "write": f"py-chk-{u}:write",
        "audit": f"py-chk-{u}:audit",
        "env_role": f"py-chk-env-{u}",
        "org_role": f"org-py-chk-{u}",
        "prefix": f"py-chk-{u}",
    }
    authz = workos.authorization
    for key in ("read", "write", "audit"):
        authz.create_permission(slug=names[key], name=names[key])
    authz.create_environment_role(slug=names["env_role"], name=f"Py check {u}")
    authz.set_environment_role_permissions(names["env_role"], permissions=[names["read"]])
    org_a = workos.organizations.create_organization(name=f"Py Check A {u}", external_id=f"py-chk-a-{u}")
    org_b = workos.organizations.create_organization(name=f"Py Check B {u}", external_id=f"py-chk-b-{u}")
    authz.create_organization_role(org_a.id, name=f"Py check org {u}", slug=names["org_role"])
    authz.set_organization_role_permissions(org_a.id, names["org_role"], permissions=[names["audit"]])
    oms = workos.organization_membership
    user = workos.user_management.create_user(email=unique_email("check"))
    membership = oms.create_organization_membership(
        user_id=user.id, organization_id=org_a.id, role=RoleSingle(role_slug=names["env_role"])
    )
    other = workos.user_management.create_user(email=unique_email("check-dual"))
    dual = oms.create_organization_membership(
        user_id=other.id,
        organization_id=org_a.id,
        role=RoleMultiple(role_slugs=[names["env_role"], names["org_role"]]),
    )
    return {**names, "org_a": org_a, "org_b": org_b, "membership": membership, "dual": dual}


def by_id(org):
    return ResourceTargetById(resource_id=org.id)


def by_external_id(org):
    return ResourceTargetByExternalId(resource_external_id=org.external_id, resource_type_slug="organization")


def authorized(workos, om_id, permission_slug, target):
    answer = workos.authorization.check(om_id, permission_slug=permission_slug, resource_target=target)
    assert isinstance(answer, AuthorizationCheck)
    assert isinstance(answer.authorized, bool)
    return answer.authorized


def own(workos, world, permission_slug, om=None):
    """Check on the membership's own organization (org A), by id."""
    return authorized(workos, om or world["membership"].id, permission_slug, by_id(world["org_a"]))


def first_field(res):
    assert res.status == 422, f"expected 422, got {res.status}: {res.text}"
    assert res.json and res.json.get("errors"), res.text
    return res.json["errors"][0]["field"]


def test_own_organization_by_id_answers_true_and_false(workos, world):
    assert own(workos, world, world["read"]) is True, "the role grants read"
    assert own(workos, world, world["write"]) is False, "the role does not grant write"
    assert own(workos, world, world["audit"]) is False, "audit is on a role this membership lacks"


def test_own_organization_by_external_id(workos, world):
    om = world["membership"].id
    assert authorized(workos, om, world["read"], by_external_id(world["org_a"])) is True
    assert authorized(workos, om, world["write"], by_external_id(world["org_a"])) is False


def test_another_organization_answers_false(workos, world):
    om = world["membership"].id
    assert authorized(workos, om, world["read"], by_id(world["org_b"])) is False
    assert authorized(workos, om, world["read"], by_external_id(world["org_b"])) is False


def test_unknown_permission_slug_is_false(workos, world):
    assert own(workos, world, f"{world['prefix']}:no-such-permission") is False


def test_several_roles(workos, world):
    dual = world["dual"].id
    assert own(workos, world, world["read"], om=dual) is True, "from the environment role"
    assert own(workos, world, world["audit"], om=dual) is True, "from the organization role"
    assert own(workos, world, world["write"], om=dual) is False


def test_check_without_a_resource_raw(world):
    """The SDK always sends a resource target; without one (WorkOS allows it)
    the membership's own organization is meant."""
    path = f"/authorization/organization_memberships/{world['membership'].id}/check"
    for slug, expected in ((world["read"], True), (world["write"], False)):
        res = raw_request("POST", path, body={"permission_slug": slug})
        assert res.status == 200, res.text
        assert res.json == {"authorized": expected}, "the WorkOS shape, nothing more"


def test_role_permission_changes_apply_to_the_next_check(workos, world):
    authz = workos.authorization
    assert own(workos, world, world["write"]) is False
    authz.set_environment_role_permissions(world["env_role"], permissions=[world["read"], world["write"]])
    assert own(workos, world, world["write"]) is True, "set on the environment role"
    authz.set_environment_role_permissions(world["env_role"], permissions=[world["read"]])
    assert own(workos, world, world["write"]) is False, "removed from the environment role"

    dual = world["dual"].id
    authz.add_organization_role_permission(world["org_a"].id, world["org_role"], body_slug=world["write"])
    assert own(workos, world, world["write"], om=dual) is True, "added to the organization role"
    authz.remove_organization_role_permission(world["org_a"].id, world["org_role"], world["write"])
    assert own(workos, world, world["write"], om=dual) is False, "removed from the organization role"


def test_deleted_permission_is_not_held(workos, world):
    authz = workos.authorization
    doomed = f"{world['prefix']}:doomed"
    authz.create_permission(slug=doomed, name=doomed)
    authz.set_environment_role_permissions(world["env_role"], permissions=[world["read"], doomed])
    assert own(workos, world, doomed) is True
    authz.delete_permission(doomed)
    assert own(workos, world, doomed) is False, "deleted"
    authz.create_permission(slug=doomed, name=doomed)
    assert own(workos, world, doomed) is False, "a new permission with the old slug is not on the role"
    assert own(workos, world, world["read"]) is True


def test_membership_role_change_applies_to_the_next_check(workos, world):
    oms = workos.organization_membership
    user = workos.user_management.create_user(email=unique_email("check-role"))
    m = oms.create_organization_membership(
        user_id=user.id, organization_id=world["org_a"].id, role=RoleSingle(role_slug=world["env_role"])
    )
    assert own(workos, world, world["audit"], om=m.id) is False
    oms.update_organization_membership(m.id, role=RoleSingle(role_slug=world["org_role"]))
    assert own(workos, world, world["audit"], om=m.id) is True, "the new role grants audit"
    assert own(workos, world, world["read"], om=m.id) is False, "the old role no longer grants read"


def test_deactivated_membership_holds_nothing(workos, world):
    oms = workos.organization_membership
    user = workos.user_management.create_user(email=unique_email("check-inactive"))
    m = oms.create_organization_membership(
        user_id=user.id, organization_id=world["org_a"].id, role=RoleSingle(role_slug=world["env_role"])
    )
    assert own(workos, world, world["read"], om=m.id) is True
    assert oms.deactivate_organization_membership(m.id).status == "inactive"
    assert own(workos, world, world["read"], om=m.id) is False
    assert authorized(workos, m.id, world["read"], by_external_id(world["org_a"])) is False
    oms.reactivate_organization_membership(m.id)
    assert own(workos, world, world["read"], om=m.id) is True


# ---- refusals ---------------------------------------------------------------


def test_unknown_membership_is_not_found(workos_no_retry, world):
    expect_error(
        lambda: workos_no_retry.authorization.check(
            MISSING_MEMBERSHIP, permission_slug=world["read"], resource_target=by_id(world["org_a"])
        ),
        NotFoundError,
        404,
    )


def test_unknown_resource_is_not_found(workos_no_retry, world):
    om = world["membership"].id
    expect_error(
        lambda: workos_no_retry.authorization.check(
            om, permission_slug=world["read"], resource_target=ResourceTargetById(resource_id=MISSING_ORG)
        ),
        NotFoundError,
        404,
    )
    expect_error(
        lambda: workos_no_retry.authorization.check(
            om,
            permission_slug=world["read"],
            resource_target=ResourceTargetByExternalId(
                resource_external_id=f"no-such-{uid()}", resource_type_slug="organization"
            ),
        ),
        NotFoundError,
        404,
    )


def test_other_resource_type_is_unprocessable(workos_no_retry, world):
    err = expect_error(
        lambda: workos_no_retry.authorization.check(
            world["membership"].id,
            permission_slug=world["read"],
            resource_target=ResourceTargetByExternalId(
                resource_external_id=world["org_a"].external_id, resource_type_slug="document"
            ),
        ),
        UnprocessableEntityError,
        422,
    )
    assert err.errors and err.errors[0]["field"] == "resource_type_slug", err


def test_missing_permission_slug_is_unprocessable(workos_no_retry, world):
    err = expect_error(
        lambda: workos_no_retry.authorization.check(
            world["membership"].id,
            permission_slug=None,  # type: ignore[arg-type]
            resource_target=by_id(world["org_a"]),
        ),
        UnprocessableEntityError,
        422,
    )
    assert err.errors and err.errors[0]["field"] == "permission_slug", err


# ---- batch (POST .../checks, no SDK method) -----------------------------------


def test_batch_answers_in_order(world):
    unknown = f"{world['prefix']}:nope"
    path = f"/authorization/organization_memberships/{world['membership'].id}/checks"
    res = raw_request("POST", path, body={"permission_slugs": [world["write"], world["read"], unknown]})
    assert res.status == 200, res.text
    assert res.json == {
        "object": "list",
        "data": [
            {"permission_slug": world["write"], "authorized": False},
            {"permission_slug": world["read"], "authorized": True},
            {"permission_slug": unknown, "authorized": False},
        ],
    }
    own_ext = raw_request(
        "POST",
        path,
        body={
            "permission_slugs": [world["read"]],
            "resource_external_id": world["org_a"].external_id,
            "resource_type_slug": "organization",
        },
    )
    assert own_ext.status == 200, own_ext.text
    assert own_ext.json["data"] == [{"permission_slug": world["read"], "authorized": True}]
    other = raw_request(
        "POST", path, body={"permission_slugs": [world["read"], world["write"]], "resource_id": world["org_b"].id}
    )
    assert other.status == 200, other.text
    assert [a["authorized"] for a in other.json["data"]] == [False, False], "nothing in another organization"


def test_batch_follows_role_changes(workos, world):
    path = f"/authorization/organization_memberships/{world['dual'].id}/checks"

    def ask():
        res = raw_request("POST", path, body={"permission_slugs": [world["read"], world["write"], world["audit"]]})
        assert res.status == 200, res.text
        return [a["authorized"] for a in res.json["data"]]

    assert ask() == [True, False, True]
    workos.authorization.add_organization_role_permission(world["org_a"].id, world["org_role"], body_slug=world["write"])
    assert ask() == [True, True, True]
    workos.authorization.remove_organization_role_permission(world["org_a"].id, world["org_role"], world["write"])
    assert ask() == [True, False, True]


def test_batch_refusals(world):
    path = f"/authorization/organization_memberships/{world['membership'].id}/checks"
    many = [f"{world['read']}-{i}" for i in range(101)]
    for body in ({}, {"permission_slugs": []}, {"permission_slugs": many}):
        res = raw_request("POST", path, body=body)
        assert first_field(res) == "permission_slugs", f"{str(body)[:80]}: {res.text}"
    hundred = [f"{world['read']}-{i}" for i in range(99)] + [world["read"]]
    full = raw_request("POST", path, body={"permission_slugs": hundred})
    assert full.status == 200, "100 permissions are allowed"
    assert len(full.json["data"]) == 100
    assert full.json["data"][99] == {"permission_slug": world["read"], "authorized": True}
    kind = raw_request(
        "POST",
        path,
        body={
            "permission_slugs": [world["read"]],
            "resource_external_id": world["org_a"].external_id,
            "resource_type_slug": "document",
        },
    )
    assert first_field(kind) == "resource_type_slug"
    no_resource = raw_request("POST", path, body={"permission_slugs": [world["read"]], "resource_id": MISSING_ORG})
    assert no_resource.status == 404, no_resource.text
    no_membership = raw_request(
        "POST",
        f"/authorization/organization_memberships/{MISSING_MEMBERSHIP}/checks",
        body={"permission_slugs": [world["read"]]},
    )
    assert no_membership.status == 404, no_membership.text
