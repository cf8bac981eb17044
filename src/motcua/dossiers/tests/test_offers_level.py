"""Proactive services from the e-ID: an account raised to level 2 is told of its integrated
documents once (a re-scan, a second in-person check or a crash make no second offer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from motcua.core.actors import Actor
from motcua.core.errors import NotFound
from motcua.dossiers import offers as offers_module
from motcua.dossiers import selectors, services
from motcua.dossiers.models import Offer
from motcua.identity import selectors as identity
from motcua.identity.tests.factories import Person, make_person
from motcua.identity.tests.factories import raise_in_person as raised_to_level_2

pytestmark = pytest.mark.django_db
RULE = "eid_documents"


def as_citizen(person: Person) -> Actor:
    return Actor(kind="citizen", ref=person.pin, pin=person.pin)


def offers_of(pin: str) -> list[Offer]:
    return list(Offer.objects.filter(pin=pin, rule=RULE).order_by("id"))


def test_raising_an_account_to_level_2_offers_its_documents_once() -> None:
    person = make_person(level=1)
    assert services.offers_scan() == 0
    assert offers_of(person.pin) == []

    raised_to_level_2(person)
    made = services.offers_scan()

    (offer,) = offers_of(person.pin)
    assert made == 1
    assert offer.subject_pin == person.pin and offer.status == "offered"
    assert offer.expires_on == timezone.localdate() + timedelta(days=60)
    (shown,) = selectors.offers_of(actor=as_citizen(person))
    assert shown.kind == "info" and shown.open
    assert timezone.localdate().strftime("%d/%m/%Y") in shown.why
    assert services.offers_scan() == 0
    assert services.offers_scan(today=timezone.localdate() + timedelta(days=1)) == 0
    assert len(offers_of(person.pin)) == 1


def test_a_second_in_person_check_makes_no_second_offer() -> None:
    person = make_person(level=1)
    raised_to_level_2(person)
    services.offers_scan()

    raised_to_level_2(person)  # checked again: the account was already at level 2
    services.offers_scan()

    assert len(offers_of(person.pin)) == 1


def test_an_accepted_documents_offer_leads_to_the_account_page_and_is_done() -> None:
    person = make_person(level=1)
    raised_to_level_2(person)
    services.offers_scan()
    (offer,) = offers_of(person.pin)

    accepted = services.offer_accept(actor=as_citizen(person), offer_id=offer.pk)

    assert accepted.next == "link" and accepted.link == "identity:account"
    assert selectors.offer_counts()[RULE]["completed"] == 1


def test_another_citizens_documents_offer_is_not_found() -> None:
    person = make_person(level=1, full_name="Lê Thị Hoa")
    stranger = make_person(level=1, full_name="Phạm Văn Tư")
    raised_to_level_2(person)
    services.offers_scan()
    (offer,) = offers_of(person.pin)

    with pytest.raises(NotFound):
        services.offer_accept(actor=as_citizen(stranger), offer_id=offer.pk)
    assert selectors.offers_of(actor=as_citizen(stranger)) == []


def test_a_crash_mid_scan_loses_no_raise_and_offers_nothing_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = [make_person(level=1, full_name=f"Người thứ {n}") for n in range(3)]
    for person in people:
        raised_to_level_2(person)
    handled: list[Any] = []
    real = offers_module._offers_make

    def crashing(*args: Any, **kwargs: Any) -> int:
        if len(handled) == 1:
            raise RuntimeError("the worker died")
        handled.append(kwargs["subject"])
        return real(*args, **kwargs)

    monkeypatch.setattr(offers_module, "_offers_make", crashing)
    with pytest.raises(RuntimeError):
        services.offers_scan()
    monkeypatch.setattr(offers_module, "_offers_make", real)

    services.offers_scan()
    services.offers_scan()

    assert [len(offers_of(p.pin)) for p in people] == [1, 1, 1]
    assert {r.pin for r in identity.level_raises_since(after_id=0)} == {p.pin for p in people}
