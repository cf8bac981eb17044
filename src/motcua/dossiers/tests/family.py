"""A family for the linked-package tests: a married couple living in one household, the
agencies of their ward with one official per role, and a driver that takes a dossier through
its workflow to its result as the officials would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from motcua.catalog.selectors import AgencyKind, version_get
from motcua.core.actors import SYSTEM
from motcua.dossiers import services
from motcua.dossiers.models import Dossier
from motcua.dossiers.tests.factories import Person, agency_of, as_citizen, pdf_file
from motcua.dossiers.tests.helpers import Desk, World, act, desk_of, world_ready
from motcua.registry.selectors import household_of
from motcua.registry.services import ResidenceMove, marriage_register, residence_move
from motcua.registry.tests.factories import make_citizen

# The order an agency's officials take a dossier to its result; each step a workflow lacks is
# skipped (civil status receives straight into processing).
HAPPY_PATH = ("receive", "assign", "start", "approve", "issue_result")


@dataclass(frozen=True)
class Family:
    world: World
    mother: Person
    father: Person
    desks: dict[int, Desk]  # by agency id


def family_ready(*, mother_born: date = date(1995, 4, 2)) -> Family:
    world = world_ready()
    ward = world.wards[0]
    father = make_citizen(full_name="Trần Văn Hùng", sex="M", birth_date=date(1992, 8, 17))
    mother = make_citizen(full_name="Lê Thị Ngọc", sex="F", birth_date=mother_born)
    marriage_register(actor=SYSTEM, pin_a=father.pin, pin_b=mother.pin, married_on=date(2020, 5, 1))
    residence_move(
        actor=SYSTEM,
        pin=father.pin,
        move=ResidenceMove(
            kind="permanent", since=date(2020, 6, 1), ward=ward.key, address="12 Đường Hùng Vương"
        ),
    )
    household = household_of(actor=SYSTEM, pin=father.pin, purpose="test").id
    residence_move(
        actor=SYSTEM,
        pin=mother.pin,
        move=ResidenceMove(
            kind="permanent", since=date(2020, 6, 1), household_id=household, relation="spouse"
        ),
    )
    agencies = [
        world.commune,
        world.police,
        agency_of(AgencyKind.SOCIAL_INSURANCE),
        agency_of(AgencyKind.LABOUR),
    ]
    desks = {a.pk: desk_of(a, prefix=f"cb{a.pk}") for a in agencies}
    return Family(world, mother, father, desks)


def birth_declaration(**changes: Any) -> dict[str, Any]:
    return {
        "ho_ten_tre": "Trần Minh Khang",
        "gioi_tinh": "M",
        "ngay_sinh": date.today().isoformat(),
        "noi_sinh": "Bệnh viện Đa khoa tỉnh",
        **changes,
    }


def birth_package(family: Family, *, key: str | None = None, **changes: Any) -> Any:
    return services.package_submit(
        actor=as_citizen(family.mother),
        submission=services.PackageSubmission(
            kind="birth",
            declaration=birth_declaration(**changes),
            steps=(),
            idempotency_key=key or uuid.uuid4().hex,
            files={"giay_chung_sinh": pdf_file()},
        ),
        eid_level=2,
    )


def drive(family: Family, dossier_id: int, *, until: str = "issue_result") -> Dossier:
    """Take the dossier along the happy path, each step by the official whose role it is."""
    dossier = Dossier.objects.get(pk=dossier_id)
    desk = family.desks[dossier.agency_id]
    snapshot = version_get(dossier.procedure_version_id)
    for action in HAPPY_PATH:
        transition = snapshot.transition(action)
        if transition is None or dossier.status not in transition.sources:
            continue
        official = {
            "receiver": desk.receiver,
            "processor": desk.processor,
            "approver": desk.approver,
            "clerk": desk.clerk,
        }[transition.roles[0]]
        extra = {"assignee": desk.processor.ref} if action == "assign" else {}
        dossier = act(official, dossier.pk, action, **extra)
        if action == until:
            break
    return dossier


def death_package(
    family: Family,
    *,
    deceased: Person,
    steps: tuple[str, ...],
    applicant: Person | None = None,
    relation: str = "vo_chong",
    **changes: Any,
) -> Any:
    died = date.today().isoformat()
    declaration = {
        "nguoi_chet_pin": deceased.pin,
        "nguoi_chet_ho_ten": deceased.full_name,  # type: ignore[attr-defined]
        "ngay_chet": died,
        "noi_chet": "Bệnh viện Đa khoa tỉnh",
        "nguyen_nhan_chet": "Bệnh già",
        "quan_he": relation,
        "so_tai_khoan": "0123456789",
        "ngan_hang": "Ngân hàng Nông nghiệp",
        **changes,
    }
    return services.package_submit(
        actor=as_citizen(applicant or family.mother),
        submission=services.PackageSubmission(
            kind="death",
            declaration=declaration,
            steps=steps,
            idempotency_key=uuid.uuid4().hex,
            files={"giay_bao_tu": pdf_file("giay-bao-tu.pdf")} if "death" in steps else {},
        ),
        eid_level=2,
    )
