"""Proactive services: each rule offers once, a re-scan offers nothing new, a crash loses no
event, another person's offer is not found, an accepted renewal is a pre-filled dossier that
files in one step, completion and expiry are seen by the scan."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from motcua.core.actors import SYSTEM, Actor
from motcua.core.errors import Conflict, NotFound
from motcua.core.models import AuditEntry
from motcua.dossiers import offers as offers_module
from motcua.dossiers import selectors, services
from motcua.dossiers.models import Dossier, Offer, OfferCursor
from motcua.dossiers.tests.factories import as_citizen
from motcua.dossiers.tests.helpers import World, applicant_with_contact, world_ready
from motcua.insurance import selectors as insurance
from motcua.insurance import services as insurance_services
from motcua.registry import selectors as registry
from motcua.registry.services import (
    ResidenceMove,
    citizen_record_death,
    citizen_register_birth,
    idcard_issue,
    residence_move,
)
from motcua.registry.tests.factories import OFFICIAL, make_citizen

pytestmark = pytest.mark.django_db
RENEWAL = "2.001195"


@pytest.fixture
def world(db: None) -> World:
    return world_ready()


def today() -> date:
    return timezone.localdate()


def offers_for(pin: str, rule: str | None = None) -> list[Offer]:
    rows = Offer.objects.filter(pin=pin).order_by("id")
    return list(rows.filter(rule=rule) if rule else rows)


def born(world: World, mother: Any, father: Any, *, days_ago: int = 10) -> str:
    return citizen_register_birth(
        actor=OFFICIAL,
        full_name="Nguyễn Minh Khôi",
        sex="M",
        birth_date=today() - timedelta(days=days_ago),
        birth_place=world.wards[0].key,
        registered_in="087",
        mother_pin=mother.pin,
        father_pin=father.pin,
    )


def lives_in(world: World, pin: str) -> None:
    residence_move(
        actor=OFFICIAL,
        pin=pin,
        move=ResidenceMove(
            kind="permanent",
            since=date(2015, 1, 1),
            ward=world.wards[0].key,
            address="Số 12 đường Trần Phú",
        ),
    )


def turning(age: int, *, in_days: int, world: World, name: str = "Trần Văn Bình") -> Any:
    """A living person whose card must be renewed at `age`, in `in_days` days."""
    birthday = registry.add_years(today() + timedelta(days=in_days), -age)
    person = make_citizen(full_name=name, birth_date=birthday)
    issued = registry.add_years(birthday, age - 4 if age > 14 else 10)
    idcard_issue(actor=OFFICIAL, pin=person.pin, issued_on=issued)
    lives_in(world, person.pin)
    return person


# --- births: the child's health-insurance card, without asking -------------------------------


def test_a_birth_issues_the_childs_health_card_once_and_tells_the_parents(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    mother = applicant_with_contact("me.khoi@example.vn", full_name="Lê Thị Mai")
    father = make_citizen(full_name="Nguyễn Văn Nam", birth_date=date(1990, 3, 3))
    child = born(world, mother, father)

    with django_capture_on_commit_callbacks(execute=True):
        made = services.offers_scan()

    assert made == 2
    for parent in (mother, father):
        (offer,) = offers_for(parent.pin, "birth_health_card")
        assert offer.status == "automatic" and offer.completed_at is not None
        assert offer.subject_pin == child
    cards = insurance.health_cards_of(actor=SYSTEM, pin=child, purpose="kiểm tra")
    assert len(cards) == 1
    first = Offer.objects.filter(subject_pin=child).order_by("id")[0]
    assert cards[0].reference == f"offer:{first.pk}"
    assert [m.to for m in mail.outbox] == [["me.khoi@example.vn"]]
    assert "Nguyễn Minh Khôi" in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        assert services.offers_scan() == 0
        assert services.offers_scan(today=today() + timedelta(days=1)) == 0
    assert len(insurance.health_cards_of(actor=SYSTEM, pin=child, purpose="kiểm tra")) == 1
    assert len(mail.outbox) == 1


def test_a_child_who_already_holds_a_health_card_is_not_offered_one(world: World) -> None:
    mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))
    father = make_citizen(full_name="Nguyễn Văn Nam", birth_date=date(1990, 3, 3))
    child = born(world, mother, father)
    insurance_services.health_card_issue(
        actor=SYSTEM, pin=child, valid_from=today() - timedelta(days=10), reference="goi-ks-1"
    )

    assert services.offers_scan() == 0
    assert not Offer.objects.exists()


def test_the_shown_birth_offer_is_done_and_cannot_be_accepted(world: World) -> None:
    mother = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))
    father = make_citizen(full_name="Nguyễn Văn Nam", birth_date=date(1990, 3, 3))
    born(world, mother, father)
    services.offers_scan()

    (shown,) = selectors.offers_of(actor=as_citizen(mother))
    assert shown.kind == "automatic" and not shown.open
    assert "Nguyễn Minh Khôi" in shown.why and shown.status_label == "Nhà nước đã tự giải quyết"
    with pytest.raises(Conflict):
        services.offer_accept(actor=as_citizen(mother), offer_id=shown.id)


# --- ID cards: 14, and the renewal ages ---------------------------------------------------------


def test_a_card_due_at_25_is_offered_once_with_the_renewal_procedure(world: World) -> None:
    person = turning(25, in_days=10, world=world)

    assert services.offers_scan() == 1
    assert services.offers_scan() == 0
    assert services.offers_scan(today=today() + timedelta(days=1)) == 0

    (offer,) = offers_for(person.pin)
    assert (offer.rule, offer.procedure_code) == ("card_renewal", RENEWAL)
    assert offer.trigger == f"age:25:{(today() + timedelta(days=10)).year}"
    assert offer.expires_on == today() + timedelta(days=90)
    (shown,) = selectors.offers_of(actor=as_citizen(person))
    assert shown.open and shown.procedure_name == "Cấp đổi thẻ căn cước"
    assert "25" in shown.why


def test_a_child_reaching_14_is_offered_the_renewal_and_a_far_birthday_is_not(
    world: World,
) -> None:
    child = turning(14, in_days=5, world=world, name="Phạm Gia Huy")
    later = turning(40, in_days=200, world=world, name="Đỗ Thị Lan")

    services.offers_scan()

    assert [o.rule for o in offers_for(child.pin)] == ["card_at_14"]
    assert offers_for(later.pin) == []


def test_a_day_the_scan_did_not_run_is_not_lost(world: World) -> None:
    services.offers_scan(today=today() - timedelta(days=5))
    person = turning(60, in_days=28, world=world)  # entered the 30-day window 3 days ago

    assert services.offers_scan() == 1
    assert [o.rule for o in offers_for(person.pin)] == ["card_renewal"]


# --- accepting a renewal: a pre-filled dossier, filed in one step --------------------------------


def test_an_accepted_renewal_offer_files_a_prefilled_dossier_and_completes_with_it(
    world: World,
) -> None:
    person = turning(25, in_days=10, world=world)
    services.offers_scan()
    (offer,) = offers_for(person.pin)
    actor = as_citizen(person)

    accepted = services.offer_accept(actor=actor, offer_id=offer.pk)

    assert accepted.next == "check" and accepted.procedure_code == RENEWAL
    assert accepted.declaration["ly_do_doi"] == "du_tuoi"
    assert accepted.declaration["so_the_hien_tai"] == person.pin  # from the registry
    assert accepted.declaration["noi_thu_nhan"]
    assert accepted.agency_id == world.province_police.pk
    assert accepted.fee_exemption == "doi_the_theo_tuoi"
    assert accepted.form_data["idempotency_key"] == [accepted.idempotency_key]
    again = services.offer_accept(actor=actor, offer_id=offer.pk)
    assert again.idempotency_key == accepted.idempotency_key
    assert AuditEntry.objects.filter(action="offer.accept", object_id=str(offer.pk)).count() == 1

    submitted = services.dossier_submit(
        actor=actor,
        submission=services.Submission(
            procedure_code=accepted.procedure_code,
            agency_id=accepted.agency_id or 0,
            declaration=accepted.declaration,
            idempotency_key=accepted.idempotency_key,
            fee_exemption=accepted.fee_exemption,
        ),
        eid_level=2,
    )
    assert submitted.created and reload_offer(offer).status == "accepted"
    assert services.offer_accept(actor=actor, offer_id=offer.pk).dossier_id == submitted.id
    (shown,) = selectors.offers_of(actor=actor)
    assert shown.dossier_id == submitted.id

    services.offers_scan()
    assert reload_offer(offer).dossier_id == submitted.id
    assert reload_offer(offer).status == "accepted"  # filed, not finished

    Dossier.objects.filter(pk=submitted.id).update(status="result_issued")
    services.offers_scan()
    done = reload_offer(offer)
    assert done.status == "completed" and done.completed_at is not None
    assert selectors.offer_counts()["card_renewal"] == {
        "made": 1,
        "accepted": 1,
        "declined": 0,
        "completed": 1,
        "automatic": 0,
        "expired": 0,
    }


def reload_offer(offer: Offer) -> Offer:
    return Offer.objects.get(pk=offer.pk)


# --- deaths: the family offered the funeral allowance -------------------------------------------


def test_a_death_offers_the_spouse_and_children_a_prefilled_death_package(world: World) -> None:
    wife = make_citizen(full_name="Lê Thị Hoa", sex="F", birth_date=date(1955, 1, 1))
    husband = make_citizen(full_name="Nguyễn Văn Tư", birth_date=date(1950, 1, 1))
    husband.spouse_pin = wife.pin
    husband.save(update_fields=["spouse_pin"])
    son = make_citizen(full_name="Nguyễn Văn Hải", birth_date=date(1980, 1, 1))
    son.father_pin = husband.pin
    son.mother_pin = wife.pin
    son.save(update_fields=["father_pin", "mother_pin"])
    citizen_record_death(actor=OFFICIAL, pin=husband.pin, death_date=today() - timedelta(days=2))

    assert services.offers_scan() == 2
    assert services.offers_scan() == 0

    for relative in (wife, son):
        (offer,) = offers_for(relative.pin, "death_funeral")
        assert offer.package_kind == "death"
        shown = selectors.offer_get(actor=as_citizen(relative), offer_id=offer.pk)
        assert shown.prefill["nguoi_chet_pin"] == husband.pin
        assert shown.prefill["steps"] == ["residence_delete", "funeral"]  # the death is on record
        assert "Nguyễn Văn Tư" in shown.why
    accepted = services.offer_accept(actor=as_citizen(wife), offer_id=offers_for(wife.pin)[0].pk)
    assert accepted.next == "package" and accepted.package_kind == "death"


# --- who may see and answer -----------------------------------------------------------------------


def test_another_citizens_offer_is_not_found(world: World) -> None:
    person = turning(25, in_days=10, world=world)
    services.offers_scan()
    (offer,) = offers_for(person.pin)
    stranger = as_citizen(make_citizen(full_name="Vũ Văn Lạ", birth_date=date(1970, 1, 1)))
    official = Actor(kind="official", ref="canbo", permissions=frozenset({"dossiers.view"}))
    audit = AuditEntry.objects.count()

    for actor in (stranger, official):
        with pytest.raises(NotFound):
            services.offer_accept(actor=actor, offer_id=offer.pk)
        with pytest.raises(NotFound):
            services.offer_decline(actor=actor, offer_id=offer.pk)
        with pytest.raises(NotFound):
            selectors.offer_get(actor=actor, offer_id=offer.pk)
        assert selectors.offers_of(actor=actor) == []

    assert reload_offer(offer).status == "offered"
    assert AuditEntry.objects.count() == audit


def test_a_declined_offer_is_recorded_and_counted(world: World) -> None:
    person = turning(40, in_days=3, world=world)
    services.offers_scan()
    (offer,) = offers_for(person.pin)

    shown = services.offer_decline(actor=as_citizen(person), offer_id=offer.pk, reason="Đã đổi")
    services.offer_decline(actor=as_citizen(person), offer_id=offer.pk)

    assert shown.status == "declined" and not shown.open
    entries = AuditEntry.objects.filter(action="offer.decline", object_id=str(offer.pk))
    assert [e.reason for e in entries] == ["Đã đổi"]
    assert selectors.offer_counts(since=today())["card_renewal"]["declined"] == 1
    assert selectors.offer_counts(since=today() + timedelta(days=1))["card_renewal"]["made"] == 0


def test_an_unanswered_offer_expires_after_its_rules_days(world: World) -> None:
    person = turning(25, in_days=10, world=world)
    services.offers_scan()
    (offer,) = offers_for(person.pin)

    services.offers_scan(today=today() + timedelta(days=90))
    assert reload_offer(offer).status == "offered"
    services.offers_scan(today=today() + timedelta(days=91))
    assert reload_offer(offer).status == "expired"
    with pytest.raises(Conflict):
        services.offer_accept(actor=as_citizen(person), offer_id=offer.pk)


# --- the scan: a crash, a late commit --------------------------------------------------------------


def test_a_crash_mid_scan_skips_no_event_and_offers_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    parents = [
        (
            make_citizen(full_name=f"Lê Thị Mẹ {i}", sex="F", birth_date=date(1995, 4, 2)),
            make_citizen(full_name=f"Trần Văn Bố {i}", birth_date=date(1990, 3, 3)),
        )
        for i in range(3)
    ]
    for mother, father in parents:
        born(world, mother, father)
    handled: list[int] = []
    real = offers_module._on_event

    def crashing(event: Any, day: date) -> int:
        if len(handled) == 1:
            raise RuntimeError("the worker died")
        handled.append(event.id)
        return real(event, day)

    monkeypatch.setattr(offers_module, "_on_event", crashing)
    with pytest.raises(RuntimeError):
        services.offers_scan()
    monkeypatch.setattr(offers_module, "_on_event", real)

    services.offers_scan()
    services.offers_scan()

    for mother, father in parents:
        assert len(offers_for(mother.pin)) == 1 and len(offers_for(father.pin)) == 1
    assert Offer.objects.count() == 6


def test_an_event_committed_late_with_a_smaller_id_is_not_skipped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = (
        make_citizen(full_name="Lê Thị Một", sex="F", birth_date=date(1995, 4, 2)),
        make_citizen(full_name="Trần Văn Một", birth_date=date(1990, 3, 3)),
    )
    late = (
        make_citizen(full_name="Lê Thị Hai", sex="F", birth_date=date(1995, 4, 2)),
        make_citizen(full_name="Trần Văn Hai", birth_date=date(1990, 3, 3)),
    )
    born(world, *late)  # its transaction has not committed when the first scan reads
    born(world, *first)
    hidden = {registry.life_events_since(after_id=0, kinds=["birth"])[0].id}
    real = registry.life_events_since

    def not_yet_committed(**kwargs: Any) -> list[Any]:
        return [e for e in real(**kwargs) if e.id not in hidden]

    monkeypatch.setattr(registry, "life_events_since", not_yet_committed)
    services.offers_scan()
    assert offers_for(late[0].pin) == [] and len(offers_for(first[0].pin)) == 1
    assert OfferCursor.objects.get(name="life_events").position < min(hidden)

    hidden.clear()  # it committed
    services.offers_scan()
    assert len(offers_for(late[0].pin)) == 1


def test_a_death_long_past_is_not_offered_when_an_old_registry_is_first_scanned() -> None:
    widow = make_citizen(full_name="Nguyễn Thị Góa", sex="F", birth_date=date(1950, 1, 1))
    husband = make_citizen(
        full_name="Trần Văn Xưa", sex="M", birth_date=date(1945, 1, 1), spouse_pin=widow.pin
    )
    widow.spouse_pin = husband.pin
    widow.save(update_fields=["spouse_pin"])
    citizen_record_death(actor=OFFICIAL, pin=husband.pin, death_date=date(2001, 3, 4))
    services.offers_scan()
    assert not offers_for(widow.pin, "death_funeral")
