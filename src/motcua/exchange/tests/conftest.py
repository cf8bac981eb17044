from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from motcua.dossiers.tests.helpers import World, use_private_storage, world_ready
from motcua.exchange.tests.helpers import Portal, make_portal
from motcua.identity.tests.factories import Person, make_person


@pytest.fixture(autouse=True)
def _own_private_storage(settings: Any, tmp_path: Path) -> None:
    use_private_storage(settings, tmp_path / "private")


@pytest.fixture
def world() -> World:
    return world_ready()


@pytest.fixture
def portal() -> Portal:
    return make_portal()


@pytest.fixture
def mother() -> Person:
    """A level-2 e-ID holder: a woman who may register her child's birth."""
    return make_person(level=2, full_name="Lê Thị Mai")
