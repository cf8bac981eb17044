"""Test data: citizens inserted as the seed does (record + its 'registered' life event)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from functools import cache

from django.contrib.auth.models import Permission, User

from motcua.core.actors import Actor
from motcua.geo.selectors import provinces, wards_of
from motcua.registry.models import Citizen, LifeEvent
from motcua.registry.pin import pin_prefix
from motcua.registry.services import citizen_snapshot

_serials = itertools.count(100001)

OFFICIAL = Actor(
    kind="official",
    ref="canbo.test",
    permissions=frozenset({"registry.change_citizen", "registry.view_citizen"}),
)
STRANGER = Actor(kind="official", ref="nobody")


@cache
def ward_keys() -> tuple[str, ...]:
    return tuple(w.key for w in wards_of(provinces()[0].key)[:5])


def make_citizen(
    *,
    full_name: str = "Nguyễn Văn An",
    sex: str = "M",
    birth_date: date = date(1984, 5, 12),
    death_date: date | None = None,
    **fields: object,
) -> Citizen:
    pin = (
        pin_prefix(province_code="087", sex=sex, birth_year=birth_date.year)
        + f"{next(_serials):06d}"
    )
    citizen = Citizen.objects.create(
        pin=pin,
        full_name=full_name,
        sex=sex,
        birth_date=birth_date,
        birth_place=ward_keys()[0],
        death_date=death_date,
        **fields,
    )
    LifeEvent.objects.create(
        citizen=citizen,
        kind=LifeEvent.Kind.REGISTERED,
        occurred_on=birth_date,
        recorded_at=datetime.now(UTC),
        actor="system:test",
        after=citizen_snapshot(citizen),
    )
    return citizen


def make_user(username: str, *permissions: str) -> User:
    user = User.objects.create_user(username=username, password="x-test-password-1")
    for codename in permissions:
        app_label, code = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=code)
        )
    return user
