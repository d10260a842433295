"""Users: create (plain password / imported bcrypt hash), get, get by
external id, list with filters, update (incl. metadata), identities, delete."""

from __future__ import annotations

import bcrypt
import pytest
from workos import NotFoundError
from workos.organizations import OrganizationDomainData
from workos.user_management import PasswordHashed, PasswordPlaintext

from support import (
    IMPORTED_PASSWORD,
    PLAIN_PASSWORD,
    expect_error,
    id_pattern,
    raw_create_membership,
    uid,
    unique_domain,
    unique_email,
)


@pytest.fixture(scope="module")
def state():
    return {"email": unique_email("pw"), "external_id": f"py-ext-{uid()}"}


@pytest.fixture(scope="module")
def user(workos, state):
    return workos.user_management.create_user(
        email=state["email"],
        password=PasswordPlaintext(password=PLAIN_PASSWORD),
        first_name="Ada",
        last_name="Lovelace",
        email_verified=True,
        external_id=state["external_id"],
        metadata={"tier": "gold"},
    )


@pytest.fixture(scope="module")
def imported(workos):
    # A fresh bcrypt hash made here, so the server must really verify bcrypt.
    password_hash = bcrypt.hashpw(IMPORTED_PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
    return workos.user_management.create_user(
        email=unique_email("bcrypt"),
        password=PasswordHashed(password_hash=password_hash, password_hash_type="bcrypt"),
        first_name="Imported",
        email_verified=True,
    )


def test_create_user_with_password(user, state):
    assert user.object == "user"
    assert id_pattern("user").match(user.id)
    assert user.email == state["email"]
    assert user.email_verified is True
    assert user.first_name == "Ada"
    assert user.last_name == "Lovelace"
    assert user.external_id == state["external_id"]
    assert user.metadata == {"tier": "gold"}
    assert user.profile_picture_url is None
    assert user.last_sign_in_at is None
    assert user.created_at.tzinfo is not None
    assert user.updated_at >= user.created_at


def test_create_user_with_bcrypt_hash(imported):
    assert id_pattern("user").match(imported.id)
    assert imported.first_name == "Imported"


def test_imported_bcrypt_user_signs_in(workos, imported):
    res = workos.user_management.authenticate_with_password(
        email=imported.email, password=IMPORTED_PASSWORD
    )
    assert res.user.id == imported.id
    assert isinstance(res.access_token, str) and res.access_token
    assert isinstance(res.refresh_token, str) and res.refresh_token


def test_plain_password_user_signs_in(workos, user, state):
    res = workos.user_management.authenticate_with_password(
        email=state["email"], password=PLAIN_PASSWORD
    )
    assert res.user.id == user.id


def test_get_user(workos, user, state):
    got = workos.user_management.get_user(user.id)
    assert got.id == user.id
    assert got.email == state["email"]
    assert got.metadata == {"tier": "gold"}
    assert got.created_at == user.created_at


def test_get_user_by_external_id(workos, user, state):
    got = workos.user_management.get_user_by_external_id(state["external_id"])
    assert got.id == user.id


def test_list_users_by_email(workos, user, state):
    page = workos.user_management.list_users(email=state["email"])
    assert [u.id for u in page.data] == [user.id]


def test_list_users_by_organization(workos, user):
    org = workos.organizations.create_organization(
        name=f"Py users filter {uid()}",
        domain_data=[OrganizationDomainData(domain=unique_domain("ufilter"), state="verified")],
    )
    raw_create_membership(user.id, org.id)
    page = workos.user_management.list_users(organization_id=org.id)
    assert [u.id for u in page.data] == [user.id]


def test_update_user(workos, user):
    updated = workos.user_management.update_user(
        user.id,
        first_name="Grace",
        last_name="Hopper",
        metadata={"tier": "platinum", "region": "eu"},
    )
    assert updated.id == user.id
    assert updated.first_name == "Grace"
    assert updated.last_name == "Hopper"
    assert updated.metadata == {"tier": "platinum", "region": "eu"}
    assert updated.updated_at >= user.updated_at
    got = workos.user_management.get_user(user.id)
    assert got.first_name == "Grace"
    assert got.metadata == {"tier": "platinum", "region": "eu"}


def test_update_user_metadata_null_value_removes_key(workos, user):
    updated = workos.user_management.update_user(user.id, metadata={"region": None})
    assert "region" not in (updated.metadata or {}), updated.metadata
    assert (updated.metadata or {}).get("tier") == "platinum"


def test_get_user_identities_is_empty(workos, user):
    assert workos.user_management.get_user_identities(user.id) == []


def test_delete_user(workos, imported):
    workos.user_management.delete_user(imported.id)
    expect_error(lambda: workos.user_management.get_user(imported.id), NotFoundError, 404)
