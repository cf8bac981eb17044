"""API keys act with exactly their user's permissions, and stop working when revoked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from motcua.core.apikeys import apikey_actor, apikey_create
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
