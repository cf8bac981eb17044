"""Decisions that take effect: a step's effects call the owning app's service in the step's
transaction (a birth registered, a death recorded, a residence moved), once per dossier; a
refusal by the registry refuses the step and writes nothing anywhere; the dossier and the
person's life events point at each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from motcua.catalog.selectors import (
    effect_vocabulary,
    procedure_current,
    snapshot_of,
    version_get,
)
from motcua.catalog.services import catalog_files
from motcua.catalog.tests.factories import stored_snapshot
from motcua.core.actors import SYSTEM
from motcua.core.errors import Conflict, NotFound
from motcua.core.models import AccessLog, AuditEntry
from motcua.dossiers.effects import EFFECTS, EffectRefused, run_effects
from motcua.dossiers.models import Dossier, DossierEffect, DossierEvent
from motcua.dossiers.selectors import dossier_detail
from motcua.dossiers.services import Step, dossier_act
from motcua.dossiers.tests.factories import BIRTH, Person, make_official, submit
from motcua.dossiers.tests.helpers import (
    Desk,
    World,
    act,
    desk_of,
    reload,
    use_private_storage,
    world_ready,
)
from motcua.identity import services as identity
from motcua.identity.tests.factories import PASSWORD, make_person
from motcua.registry.selectors import citizen_get, life_events_by_reference, registry_stats
from motcua.registry.tests.factories import make_citizen

pytestmark = pytest.mark.django_db

DEATH = "1.000656"
PERMANENT_RESIDENCE = "1.004222"
REGISTRAR = SYSTEM  # reads the registry in the assertions


@pytest.fixture(autouse=True)
def _own_private_storage(settings: Any, tmp_path: Path) -> None:
    use_private_storage(settings, tmp_path / "private")


@pytest.fixture
def world() -> World:
    return world_ready()


@pytest.fixture
def desk(world: World) -> Desk:
    return desk_of(world.commune)


@pytest.fixture
def mother() -> Person:
    return make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))


def birth_declaration(mother_pin: str, **changes: Any) -> dict[str, Any]:
    return {
        "ho_ten_tre": "Nguyễn Minh Khang",
        "gioi_tinh": "M",
        "ngay_sinh": "2026-11-02",
        "noi_sinh": "Bệnh viện Phụ sản",
        "dan_toc": "Kinh",
        "me_pin": mother_pin,
        "quan_he_nguoi_yeu_cau": "me",
        **changes,
    }


def death_declaration(deceased_pin: str, **changes: Any) -> dict[str, Any]:
    return {
        "nguoi_chet_pin": deceased_pin,
        "ngay_chet": "2026-11-20",
        "noi_chet": "Tại nhà",
        "nguyen_nhan_chet": "Bệnh già",
        "quan_he": "nguoi_than_khac",
        **changes,
    }


def to_decision(desk: Desk, dossier_id: int) -> None:
    """Receive and approve: the next step, issuing the result, takes effect."""
    act(desk.receiver, dossier_id, "receive")
    act(desk.approver, dossier_id, "approve")


@dataclass(frozen=True)
class Counts:
    citizens: int
    living: int
    households: int
    effects: int
    dossier_events: int
    audit: int
    status: str
    version: int


def counts(dossier_id: int) -> Counts:
    stats = registry_stats()
    dossier = reload(dossier_id)
    return Counts(
        citizens=stats.citizens,
        living=stats.living,
        households=stats.households,
        effects=DossierEffect.objects.count(),
        dossier_events=DossierEvent.objects.count(),
        audit=AuditEntry.objects.count(),
        status=dossier.status,
        version=dossier.version,
    )


@contextmanager
def refused_writing_nothing(dossier_id: int, field: str, message: str = "") -> Iterator[None]:
    before = counts(dossier_id)
    with pytest.raises(EffectRefused) as caught:
        yield
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert "effect" in caught.value.errors  # the effect is named
    assert counts(dossier_id) == before
    assert life_events_by_reference(reference=reload(dossier_id).code) == []


# --- the vocabulary ----------------------------------------------------------------------------


def test_every_effect_of_the_vocabulary_has_an_implementation_and_no_other() -> None:
    assert set(effect_vocabulary()) == set(EFFECTS)


def test_every_effect_the_shipped_catalog_names_is_in_the_vocabulary() -> None:
    procedures, _ = catalog_files()
    named = {
        name
        for p in procedures["procedures"]
        for names in p.get("effects", {}).values()
        for name in names
    }
    assert named == set(effect_vocabulary())  # and each of them is used by some procedure


# --- a birth registration takes effect -----------------------------------------------------------


def test_issuing_a_birth_registration_registers_the_child_with_its_mother(
    world: World, desk: Desk, mother: Person
) -> None:
    father = make_citizen(full_name="Nguyễn Văn Hùng", sex="M", birth_date=date(1993, 1, 5))
    filed = submit(
        mother, world.commune, declaration=birth_declaration(mother.pin, cha_pin=father.pin)
    )
    to_decision(desk, filed.id)
    citizens = registry_stats().citizens

    issued = act(desk.clerk, filed.id, "issue_result")

    assert issued.status == "result_issued"
    effect = DossierEffect.objects.get(dossier_id=filed.id)
    assert (effect.name, effect.action) == ("birth_register", "issue_result")
    child_pin = effect.outputs["pin"]
    child = citizen_get(actor=REGISTRAR, pin=child_pin, purpose="test")
    assert child.full_name == "Nguyễn Minh Khang"
    assert (child.mother_pin, child.father_pin) == (mother.pin, father.pin)
    assert registry_stats().citizens == citizens + 1
    # The life event carries the dossier's code; the dossier shows the new PIN.
    events = life_events_by_reference(reference=filed.code)
    assert [(e.pin, e.kind) for e in events] == [(child_pin, "birth")]
    detail = dossier_detail(actor=desk.clerk, dossier_id=filed.id)
    assert [e.name for e in detail.effects] == ["birth_register"]
    assert child_pin in detail.effects[0].text
    assert "Đã đăng ký khai sinh" in detail.effects[0].text
    assert [e.pin for e in detail.life_events] == [child_pin]
    # The official's look at the child's life events is in the child's access log.
    assert AccessLog.objects.filter(subject_pin=child_pin, data="registry.life_events").exists()
    # The registry's audit row names the official, not a system account.
    assert AuditEntry.objects.filter(
        object_id=child_pin, action="registry.birth", actor=desk.clerk.label
    ).exists()


def test_a_mother_less_than_twelve_years_older_than_the_child_refuses_the_step(
    world: World, desk: Desk
) -> None:
    applicant = make_citizen(full_name="Lê Văn Tư", sex="M", birth_date=date(1960, 1, 1))
    girl = make_citizen(full_name="Lê Thị Bé", sex="F", birth_date=date(2016, 2, 2))
    filed = submit(
        applicant,
        world.commune,
        declaration=birth_declaration(girl.pin, quan_he_nguoi_yeu_cau="nguoi_than_khac"),
    )
    to_decision(desk, filed.id)
    with refused_writing_nothing(filed.id, "declaration.me_pin", "12"):
        act(desk.clerk, filed.id, "issue_result")


def test_the_refused_step_can_be_taken_again_once_and_registers_once(
    world: World, desk: Desk, mother: Person
) -> None:
    filed = submit(mother, world.commune, declaration=birth_declaration(mother.pin))
    to_decision(desk, filed.id)
    version = reload(filed.id).version
    act(desk.clerk, filed.id, "issue_result")
    citizens = registry_stats().citizens

    # The same step replayed on the version the clerk saw: a conflict, no second child.
    with pytest.raises(Conflict):
        dossier_act(actor=desk.clerk, step=Step(filed.id, "issue_result", version))
    assert registry_stats().citizens == citizens
    assert DossierEffect.objects.filter(dossier_id=filed.id).count() == 1


def test_an_effect_run_twice_registers_once(world: World, desk: Desk, mother: Person) -> None:
    filed = submit(mother, world.commune, declaration=birth_declaration(mother.pin))
    to_decision(desk, filed.id)
    snapshot = version_get(reload(filed.id).procedure_version_id)
    transition = snapshot.transition("issue_result")
    assert transition is not None and transition.effects == ("birth_register",)
    citizens = registry_stats().citizens
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=filed.id)
        first = run_effects(
            actor=desk.clerk, dossier=dossier, transition=transition, now=timezone.now()
        )
        again = run_effects(
            actor=desk.clerk, dossier=dossier, transition=transition, now=timezone.now()
        )
    assert [e.name for e in first] == ["birth_register"] and again == []
    assert registry_stats().citizens == citizens + 1
    assert len(life_events_by_reference(reference=filed.code)) == 1


def test_another_agencys_clerk_cannot_make_the_birth_take_effect(
    world: World, desk: Desk, mother: Person
) -> None:
    filed = submit(mother, world.commune, declaration=birth_declaration(mother.pin))
    to_decision(desk, filed.id)
    outsider = make_official("xa.ben.trakq", world.other_commune, "clerk")
    before = counts(filed.id)
    with pytest.raises(NotFound):
        act(outsider, filed.id, "issue_result")
    assert counts(filed.id) == before


def test_the_official_holds_no_registry_permission_of_their_own(desk: Desk) -> None:
    assert not desk.clerk.can("registry.change_citizen")


# --- a death registration takes effect ---------------------------------------------------------


def test_issuing_a_death_registration_records_the_death_and_the_login_is_refused(
    world: World, desk: Desk
) -> None:
    deceased = make_person(full_name="Phạm Văn Lộc", sex="M", birth_date=date(1940, 7, 7))
    applicant = make_citizen(full_name="Phạm Thị Hạnh", sex="F", birth_date=date(1970, 3, 3))
    filed = submit(applicant, world.commune, DEATH, declaration=death_declaration(deceased.pin))
    to_decision(desk, filed.id)

    act(desk.clerk, filed.id, "issue_result")

    record = citizen_get(actor=REGISTRAR, pin=deceased.pin, purpose="test")
    assert (record.status, record.death_date) == ("deceased", date(2026, 11, 20))
    assert [e.kind for e in life_events_by_reference(reference=filed.code)] == ["death"]
    with pytest.raises(identity.LoginRefused):
        identity.login_check(pin=deceased.pin, password=PASSWORD, client=identity.Client(ip=None))


def test_a_death_before_the_birth_refuses_the_step(world: World, desk: Desk) -> None:
    deceased = make_citizen(full_name="Phạm Văn Lộc", sex="M", birth_date=date(2000, 7, 7))
    applicant = make_citizen(full_name="Phạm Thị Hạnh", sex="F", birth_date=date(1970, 3, 3))
    filed = submit(
        applicant,
        world.commune,
        DEATH,
        declaration=death_declaration(deceased.pin, ngay_chet="1999-05-05"),
    )
    to_decision(desk, filed.id)
    with refused_writing_nothing(filed.id, "declaration.ngay_chet"):
        act(desk.clerk, filed.id, "issue_result")
    assert citizen_get(actor=REGISTRAR, pin=deceased.pin, purpose="test").status == "living"


# --- a permanent residence takes effect ----------------------------------------------------------


def residence_declaration(head_pin: str = "", **changes: Any) -> dict[str, Any]:
    return {
        "dia_chi_thuong_tru_moi": "Số 5 đường Trần Phú",
        "truong_hop": "ve_o_voi_nguoi_than",
        "quan_he_voi_chu_ho": "con" if head_pin else "chu_ho",
        **({"chu_ho_pin": head_pin} if head_pin else {}),
        **changes,
    }


def test_joining_a_head_who_has_no_household_refuses_the_step(world: World) -> None:
    police = desk_of(world.police, prefix="congan")
    head = make_citizen(full_name="Đỗ Văn Nam", sex="M", birth_date=date(1960, 1, 1))
    applicant = make_citizen(full_name="Đỗ Thị Lan", sex="F", birth_date=date(1990, 1, 1))
    filed = submit(
        applicant,
        world.police,
        PERMANENT_RESIDENCE,
        declaration=residence_declaration(head.pin),
    )
    act(police.receiver, filed.id, "receive")
    act(police.receiver, filed.id, "assign", assignee=police.processor.ref)
    act(police.processor, filed.id, "start")
    act(police.approver, filed.id, "approve")
    with refused_writing_nothing(filed.id, "declaration.chu_ho_pin"):
        act(police.clerk, filed.id, "issue_result")


def test_registering_a_permanent_residence_founds_the_household(world: World) -> None:
    police = desk_of(world.police, prefix="congan")
    applicant = make_citizen(full_name="Đỗ Thị Lan", sex="F", birth_date=date(1990, 1, 1))
    filed = submit(
        applicant, world.police, PERMANENT_RESIDENCE, declaration=residence_declaration()
    )
    act(police.receiver, filed.id, "receive")
    act(police.receiver, filed.id, "assign", assignee=police.processor.ref)
    act(police.processor, filed.id, "start")
    act(police.approver, filed.id, "approve")
    households = registry_stats().households

    act(police.clerk, filed.id, "issue_result")

    assert registry_stats().households == households + 1
    record = citizen_get(actor=REGISTRAR, pin=applicant.pin, purpose="test")
    assert any(r.kind == "permanent" for r in record.residences)
    assert [e.kind for e in life_events_by_reference(reference=filed.code)] == ["residence"]


def test_a_version_published_before_effects_existed_takes_none(world: World) -> None:
    current = procedure_current(BIRTH)
    issue = current.transition("issue_result")
    assert issue is not None and issue.effects == ("birth_register",)
    stored = stored_snapshot(current.version_id)
    del stored["effects"]  # as versions were stored before
    old = snapshot_of(current.version_id, current.number, stored)
    assert all(t.effects == () for t in old.transitions)


# --- the pages --------------------------------------------------------------------------------


def test_the_back_office_shows_the_registrys_refusal_and_then_the_new_pin(
    world: World, desk: Desk, mother: Person
) -> None:
    from django.contrib.auth.models import User
    from django.urls import reverse

    from motcua.web.tests.staff import official_client

    applicant = make_citizen(full_name="Lê Văn Tư", sex="M", birth_date=date(1960, 1, 1))
    girl = make_citizen(full_name="Lê Thị Bé", sex="F", birth_date=date(2016, 2, 2))
    refused_one = submit(
        applicant,
        world.commune,
        declaration=birth_declaration(girl.pin, quan_he_nguoi_yeu_cau="nguoi_than_khac"),
    )
    to_decision(desk, refused_one.id)
    client = official_client(User.objects.get(username=desk.clerk.ref))
    version = reload(refused_one.id).version
    answer = client.post(
        reverse("backoffice:step", args=[refused_one.id]),
        {"action": "issue_result", "version": version},
    )
    page = answer.content.decode()
    assert answer.status_code == 422
    assert "govuk-error-summary" in page
    assert "Đăng ký khai sinh vào Cơ sở dữ liệu quốc gia về dân cư" in page  # the effect
    assert "Số định danh cá nhân của mẹ: " in page and "12" in page  # the field, the rule
    assert reload(refused_one.id).status == "approved"

    filed = submit(mother, world.commune, declaration=birth_declaration(mother.pin))
    to_decision(desk, filed.id)
    act(desk.clerk, filed.id, "issue_result")
    child_pin = DossierEffect.objects.get(dossier_id=filed.id).outputs["pin"]
    office = client.get(reverse("backoffice:dossier", args=[filed.id])).content.decode()
    assert 'id="effects"' in office and child_pin in office and 'id="life-events"' in office
