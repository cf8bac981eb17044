"""Actors of the social-insurance sector for tests (other apps' tests may use them too)."""

from __future__ import annotations

from motcua.core.actors import Actor

INSURANCE_OFFICIAL = Actor(
    kind="official",
    ref="bhxh.test",
    permissions=frozenset(
        {
            "insurance.add_healthcard",
            "insurance.add_benefitdecision",
            "insurance.add_insuredperson",
            "insurance.view_healthcard",
            "insurance.view_benefitdecision",
            "registry.view_citizen",
        }
    ),
)
# An official of the sector whose role lacks the registry's read permission.
BLIND_OFFICIAL = Actor(
    kind="official",
    ref="bhxh.blind",
    permissions=INSURANCE_OFFICIAL.permissions - {"registry.view_citizen"},
)
OUTSIDER = Actor(kind="official", ref="outsider", permissions=frozenset({"registry.view_citizen"}))
