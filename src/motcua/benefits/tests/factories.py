"""Actors of the social-assistance sector for tests (other apps' tests may use them too)."""

from __future__ import annotations

from motcua.core.actors import Actor

LABOUR_OFFICIAL = Actor(
    kind="official",
    ref="ldtbxh.test",
    permissions=frozenset(
        {
            "benefits.add_recipient",
            "benefits.change_recipient",
            "benefits.add_supportdecision",
            "benefits.view_supportdecision",
            "registry.view_citizen",
        }
    ),
)
OUTSIDER = Actor(kind="official", ref="outsider", permissions=frozenset({"registry.view_citizen"}))
