"""Cursor pagination over 260 users in one organization."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from workos.organizations import OrganizationDomainData

from support import make_client, raw_create_membership, uid, unique_domain

TOTAL = 260


@pytest.fixture(scope="module")
def population(workos):
    org = workos.organizations.create_organization(
        name=f"Py pagination {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("paging"), state="verified")],
    )
    run = uid(3)

    def create(i: int) -> str:
        client = make_client()
        try:
            user = client.user_management.create_user(
                email=f"py-page-{run}-{i:03d}@paging-{run}.example.com"
            )
            raw_create_membership(user.id, org.id)
            return user.id
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(TOTAL)))
    assert len(set(ids)) == TOTAL
    return {"org": org, "ids": set(ids)}


def test_auto_paging_iter_yields_every_user_once(workos, population):
    page = workos.user_management.list_users(organization_id=population["org"].id, limit=100)
    assert len(page.data) == 100
    ids = [u.id for u in page.auto_paging_iter()]
    assert len(ids) - len(set(ids)) == 0, "duplicates across pages"
    assert len(ids) == TOTAL
    assert set(ids) == population["ids"]


def test_cursors(workos, population):
    org_id = population["org"].id
    p1 = workos.user_management.list_users(organization_id=org_id, limit=100)
    assert p1.after == p1.data[-1].id
    assert p1.before is None
    p2 = workos.user_management.list_users(organization_id=org_id, limit=100, after=p1.after)
    p3 = workos.user_management.list_users(organization_id=org_id, limit=100, after=p2.after)
    assert len(p2.data) == 100
    assert len(p3.data) == TOTAL - 200
    assert p3.after is None
    assert p2.before == p2.data[0].id
    back = workos.user_management.list_users(organization_id=org_id, limit=100, before=p2.before)
    assert [u.id for u in back.data] == [u.id for u in p1.data]


def test_order_asc_reverses_desc(workos, population):
    org_id = population["org"].id
    desc = [u.id for u in workos.user_management.list_users(organization_id=org_id, limit=100).auto_paging_iter()]
    asc = [
        u.id
        for u in workos.user_management.list_users(
            organization_id=org_id, limit=100, order="asc"
        ).auto_paging_iter()
    ]
    assert asc == list(reversed(desc))
