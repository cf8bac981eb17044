"""API keys act with exactly their user's permissions, only within their scopes, and stop
working when revoked or expired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import timezone

from motcua.core.apikeys import API_SCOPES, apikey_actor, apikey_create, operation_scope
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import ApiKey

pytestmark = pytest.mark.django_db


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="registry", codename=codename)


def test_permissions_come_from_the_user_and_its_groups() -> None:
    user = User.objects.create_user("canbo")
    user.user_permissions.add(_permission("view_citizen"))
    group = Group.objects.create(name="hộ tịch")
    group.permissions.add(_permission("change_citizen"))
    user.groups.add(group)
    actor = apikey_actor(apikey_create(name="tool", user=user))
    assert actor is not None and actor.ref == "canbo"
    assert actor.permissions == {"registry.view_citizen", "registry.change_citizen"}


def test_a_superuser_key_holds_every_permission() -> None:
    actor = apikey_actor(apikey_create(name="root", user=User.objects.create_superuser("root")))
    assert (
        actor is not None
        and actor.can("registry.change_citizen")
        and actor.can("core.view_auditentry")
    )


def test_revoked_keys_inactive_users_and_unknown_keys_give_no_actor() -> None:
    user = User.objects.create_user("canbo")
    revoked = apikey_create(name="old", user=user)
    ApiKey.objects.filter(name="old").update(revoked_at=timezone.now())
    assert apikey_actor(revoked) is None
    active = apikey_create(name="new", user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert apikey_actor(active) is None
    assert apikey_actor("mck_unknown") is None


# --- scopes and expiry -------------------------------------------------------------------------


def _official(username: str = "hotich") -> User:
    user = User.objects.create_user(username)
    user.user_permissions.add(_permission("view_citizen"))
    return user


def _read_citizen(client: Client, key: str) -> Any:
    return client.get(
        "/api/registry/citizens/001099000001",
        {"purpose": "kiểm tra / check"},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_new_key_reads_by_default_and_expires_in_90_days() -> None:
    apikey_create(name="tool", user=_official())
    key = ApiKey.objects.get(name="tool")
    assert key.scopes == ["registry:read"]
    assert abs(key.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


def test_a_scoped_unexpired_key_passes_authentication(client: Client) -> None:
    key = apikey_create(name="tool", user=_official(), scopes=["registry:read"])
    assert _read_citizen(client, key).status_code == 404  # past the key checks: no such citizen


def test_attack_using_an_expired_key_is_refused(client: Client) -> None:
    key = apikey_create(name="old", user=_official(), lifetime=timedelta(days=1))
    assert apikey_actor(key, scope="registry:read") is not None
    ApiKey.objects.filter(name="old").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert apikey_actor(key, scope="registry:read") is None
    response = _read_citizen(client, key)
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


def test_attack_using_a_key_outside_its_scope_is_refused(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key made for another section of the API (here a dossiers tool), by an official who may
    read the registry, does not open the registry."""
    monkeypatch.setitem(API_SCOPES, "dossiers:read", "đọc hồ sơ / read dossiers")
    key = apikey_create(name="dossiers tool", user=_official(), scopes=["dossiers:read"])
    response = _read_citizen(client, key)
    assert response.status_code == 403 and "registry:read" in response.json()["detail"]
    with pytest.raises(PermissionDenied):
        apikey_actor(key, scope="registry:read")
    assert apikey_actor(key, scope="dossiers:read") is not None


def test_attack_writing_with_a_read_key_is_refused(client: Client) -> None:
    key = apikey_create(name="reader", user=_official())
    response = client.post("/api/registry/citizens", {}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (403, 405)  # no write operation exists; none is let through
    assert operation_scope(section="registry", method="POST") == "registry:write"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": ["registry:admin"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"lifetime": timedelta(days=366)}, "lifetime"),
        ({"lifetime": timedelta(0)}, "lifetime"),
    ],
)
def test_keys_with_unknown_scopes_or_endless_lives_are_not_made(
    kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        apikey_create(name="bad", user=_official(), **kwargs)
    assert field in refused.value.errors
    assert not ApiKey.objects.exists()


def test_every_operation_a_key_can_call_has_a_known_scope(client: Client) -> None:
    """Walks the OpenAPI document: each operation behind a bearer key needs a scope from
    API_SCOPES (a new API section adds its scopes there)."""
    document = client.get("/api/openapi.json").json()
    needed = {
        operation_scope(section=path.removeprefix("/api/").split("/", 1)[0], method=method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any("ApiKeyAuth" in entry for entry in operation.get("security", []))
    }
    assert needed and needed <= set(API_SCOPES), needed - set(API_SCOPES)
