"""Test data for the catalog: agencies made or looked up, officials given and relieved of roles.

The catalog's tables are its own (import-linter): the tests of other apps reach agencies and
officials only through these factories and the catalog's selectors and services. The factories
return the rows themselves; `Agency` is exported as the type of what they return."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from motcua.catalog.models import Agency, AgencyKind, Official, ProcedureVersion

__all__ = [
    "Agency",
    "agencies",
    "agency_find",
    "agency_make",
    "roles_give",
    "roles_take",
    "stored_snapshot",
]


def agency_make(
    code: str,
    *,
    kind: str = AgencyKind.PROVINCE_POLICE,
    name: str | None = None,
    unit_code: str = "29",
) -> Agency:
    """The agency with this code, made if there is none yet (another code, another agency)."""
    found, _ = Agency.objects.get_or_create(
        code=code,
        defaults={"name": name or f"Cơ quan {code}", "kind": kind, "unit_code": unit_code},
    )
    return found


def agency_find(kind: str, unit_code: str | None = None) -> Agency:
    """The agency of this kind serving this unit; without a unit, the first of its kind by code.
    Raises if there is none."""
    if unit_code is not None:
        return Agency.objects.get(kind=kind, unit_code=unit_code)
    first = Agency.objects.filter(kind=kind).order_by("code").first()
    if first is None:
        raise Agency.DoesNotExist(f"no agency of kind {kind}")
    return first


def agencies(kind: str | None = None) -> list[Agency]:
    """All agencies (of this kind), by code."""
    rows = Agency.objects.order_by("code")
    return list(rows.filter(kind=kind) if kind is not None else rows)


def roles_give(user: AbstractBaseUser, agency: Agency, *roles: str) -> None:
    """Make the user an official of the agency with these roles (those held already stay)."""
    for role in roles:
        Official.objects.get_or_create(user=user, agency=agency, role=role)


def roles_take(username: str, agency: Agency | None = None) -> int:
    """Take the user's roles in the agency (in every agency if None); returns how many went."""
    rows = Official.objects.filter(user__username=username)
    if agency is not None:
        rows = rows.filter(agency=agency)
    deleted, _ = rows.delete()
    return deleted


def stored_snapshot(version_id: int) -> dict[str, Any]:
    """A published version's snapshot as stored (a copy to change)."""
    snapshot: dict[str, Any] = ProcedureVersion.objects.get(pk=version_id).snapshot
    return dict(snapshot)
