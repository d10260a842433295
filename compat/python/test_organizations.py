"""Organizations and organization domains."""

from __future__ import annotations

import pytest
from workos import NotFoundError
from workos.organizations import OrganizationDomainData

from support import expect_error, id_pattern, note, uid, unique_domain


def assert_domain(d, org_id):
    assert d.object == "organization_domain"
    assert id_pattern("org_domain").match(d.id)
    assert d.organization_id == org_id
    assert d.state in ("verified", "pending", "failed", "legacy_verified", "unverified"), d.state
    assert d.verification_strategy in ("dns", "manual"), d.verification_strategy


@pytest.fixture(scope="module")
def state():
    return {
        "verified": unique_domain("verified"),
        "pending": unique_domain("pending"),
        "external_id": f"py-org-ext-{uid()}",
        "name": f"Py Acme {uid()}",
    }


@pytest.fixture(scope="module")
def org(workos, state):
    return workos.organizations.create_organization(
        name=state["name"],
        domain_data=[
            OrganizationDomainData(domain=state["verified"], state="verified"),
            OrganizationDomainData(domain=state["pending"], state="pending"),
        ],
        external_id=state["external_id"],
        metadata={"tier": "diamond"},
    )


def test_create_organization(org, state):
    assert org.object == "organization"
    assert id_pattern("org").match(org.id)
    assert org.name == state["name"]
    assert org.external_id == state["external_id"]
    assert org.metadata == {"tier": "diamond"}
    by_name = {d.domain: d for d in org.domains}
    assert set(by_name) == {state["verified"], state["pending"]}
    assert by_name[state["verified"]].state == "verified"
    assert by_name[state["pending"]].state == "pending"
    for d in org.domains:
        assert_domain(d, org.id)


def test_get_organization(workos, org, state):
    got = workos.organizations.get_organization(org.id)
    assert got.id == org.id
    assert got.name == state["name"]
    assert len(got.domains) == 2


def test_get_organization_by_external_id(workos, org, state):
    assert workos.organizations.get_organization_by_external_id(state["external_id"]).id == org.id


def test_list_organizations_by_domains(workos, org, state):
    page = workos.organizations.list_organizations(domains=[state["verified"]])
    assert [o.id for o in page.data] == [org.id]
    other = workos.organizations.create_organization(
        name=f"Py other {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("other"), state="verified")],
    )
    both = workos.organizations.list_organizations(
        domains=[state["pending"], other.domains[0].domain]
    )
    assert sorted(o.id for o in both.data) == sorted([org.id, other.id])


def test_update_organization(workos, org, state):
    new_external = f"py-org-ext2-{uid()}"
    updated = workos.organizations.update_organization(
        org.id,
        name=f"{state['name']} Renamed",
        external_id=new_external,
        metadata={"tier": "silver"},
    )
    assert updated.id == org.id
    assert updated.name == f"{state['name']} Renamed"
    assert updated.external_id == new_external
    assert updated.metadata == {"tier": "silver"}
    assert len(updated.domains) == 2
    assert workos.organizations.get_organization_by_external_id(new_external).id == org.id


@pytest.fixture(scope="module")
def extra_domain(workos, org):
    return workos.organization_domains.create_organization_domain(
        domain=unique_domain("added"), organization_id=org.id
    )


def test_create_organization_domain(workos, org, extra_domain):
    assert_domain(extra_domain, org.id)
    assert extra_domain.state == "pending"
    assert isinstance(extra_domain.verification_token, str) and extra_domain.verification_token
    assert isinstance(extra_domain.verification_prefix, str)
    refreshed = workos.organizations.get_organization(org.id)
    assert extra_domain.id in [d.id for d in refreshed.domains]


def test_get_organization_domain(workos, org, extra_domain):
    got = workos.organization_domains.get_organization_domain(extra_domain.id)
    assert_domain(got, org.id)
    assert got.domain == extra_domain.domain


def test_verify_organization_domain_without_dns_record(workos, org, extra_domain):
    result = workos.organization_domains.verify_organization_domain(extra_domain.id)
    assert_domain(result, org.id)
    assert result.id == extra_domain.id
    assert result.state != "verified"
    after = workos.organization_domains.get_organization_domain(extra_domain.id)
    assert after.state != "verified"
    note(
        "python: domain state after verify without DNS: "
        f"{getattr(result.state, 'value', result.state)} (re-read: {getattr(after.state, 'value', after.state)})"
    )


def test_delete_organization_domain(workos, org, extra_domain):
    workos.organization_domains.delete_organization_domain(extra_domain.id)
    expect_error(
        lambda: workos.organization_domains.get_organization_domain(extra_domain.id),
        NotFoundError,
        404,
    )


def test_delete_organization(workos, org):
    workos.organizations.delete_organization(org.id)
    expect_error(lambda: workos.organizations.get_organization(org.id), NotFoundError, 404)
