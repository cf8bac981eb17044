"""The stream of accounts raised to level 2, read by proactive services from a cursor."""

from __future__ import annotations

import pytest
from django.utils import timezone

from motcua.identity import selectors
from motcua.identity.selectors import LevelRaise
from motcua.identity.tests.factories import make_person, raise_in_person

pytestmark = pytest.mark.django_db


def test_raised_accounts_are_listed_once_in_the_order_recorded() -> None:
    made_at_2 = make_person(level=2, full_name="Nguyễn Văn An")
    raised = make_person(level=1, full_name="Lê Thị Hoa")
    never = make_person(level=1, full_name="Phạm Văn Tư")

    raise_in_person(raised)

    found = selectors.level_raises_since(after_id=0)
    assert [r.pin for r in found] == [made_at_2.pin, raised.pin]
    assert never.pin not in {r.pin for r in found}
    assert all(r.raised_on == timezone.localdate() for r in found)
    assert found[0].id < found[1].id


def test_a_second_check_of_a_level_2_account_raises_nothing() -> None:
    person = make_person(level=1)
    raise_in_person(person)
    first = selectors.level_raises_since(after_id=0)

    raise_in_person(person, place="Công an tỉnh")  # checked again: already at level 2

    assert selectors.level_raises_since(after_id=0) == first
    assert selectors.level_raises_since(after_id=first[0].id) == []


def test_the_stream_pages_from_the_cursor() -> None:
    people = [make_person(level=2, full_name=f"Người thứ {n}") for n in range(3)]

    page = selectors.level_raises_since(after_id=0, limit=2)
    rest = selectors.level_raises_since(after_id=page[-1].id, limit=2)

    assert len(page) == 2
    assert [r.pin for r in page + rest] == [p.pin for p in people]
    assert all(isinstance(r, LevelRaise) for r in page + rest)
    assert selectors.level_raises_since(after_id=rest[-1].id) == []
