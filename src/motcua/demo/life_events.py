"""The demo's life events: decisions that change the registry, linked packages at every stage,
the sectors' people and officials, a proactive offer, a partner portal.

Made once through the services and selectors, as people would: the citizens file, the demo's
officials take each step in the back office's order (in this process, no worker needed), the
saga is advanced after each decision. What it makes:

- the demo's level-2 citizen (a married head of household whose parent lives with them): a
  birth package completed (the child registered, in the household, with a health card); the
  death of their parent registered, which makes the state offer the family the funeral
  allowance (a proactive offer waiting in the portal); a death package whose funeral-support
  step the labour department refused, with its reason;
- another family's birth package waiting at the commune police's residence step;
- another family's death package waiting at the social-insurance step;
- insured people, pensioners and social-assistance recipients of the demo registry;
- a partner portal (the province's own portal) with a webhook subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from motcua.benefits import services as benefits
from motcua.catalog import selectors as catalog
from motcua.core.actors import SYSTEM, Actor
from motcua.core.documents import Document, document_pdf
from motcua.core.errors import Conflict, DomainError, ValidationFailed
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services as dossier_services
from motcua.exchange import services as exchange
from motcua.identity.services import Credentials
from motcua.insurance import services as insurance
from motcua.registry import selectors as registry

PURPOSE = "Chuẩn bị dữ liệu trình diễn: sự kiện hộ tịch và hồ sơ liên thông"
DEATH = "1.000656"
# The order an agency's officials take a dossier to its result and hand it over (a step the
# workflow lacks is skipped: civil status receives straight into processing).
HAPPY_PATH = ("receive", "assign", "start", "approve", "issue_result", "return_result")
SCAN_HEADS = 300  # households looked at for the demo's families
PARTNER_NAME = "Cổng dịch vụ công tỉnh Đồng Tháp (demo)"
LABOUR_REFUSAL = (
    "Hỗ trợ chi phí mai táng chi cho người trực tiếp tổ chức mai táng; người đề nghị không "
    "phải là người tổ chức mai táng (Nghị định 20/2021/NĐ-CP, Điều 11). Đề nghị con, cháu "
    "trực tiếp mai táng nộp hồ sơ."
)


# --- who is who -----------------------------------------------------------------------------------


def _citizen(pin: str) -> Actor:
    return Actor(kind="citizen", ref=pin, pin=pin)


def _official(username: str) -> Actor:
    return Actor.from_user(User.objects.get(username=username))


def _record(pin: str) -> registry.CitizenRecord | None:
    if not pin:
        return None
    try:
        return registry.citizen_get(actor=SYSTEM, pin=pin, purpose=PURPOSE)
    except DomainError:
        return None


def _age(record: registry.CitizenRecord) -> int:
    return registry.age_from_partial_date(record.birth_date, on=timezone.localdate())


def _living(record: registry.CitizenRecord | None) -> bool:
    return record is not None and record.status == "living"


def _home_ward(record: registry.CitizenRecord) -> str:
    permanent = [r.ward for r in record.residences if r.kind == "permanent" and r.valid_to is None]
    return permanent[0] if permanent else (record.residences[0].ward if record.residences else "")


@dataclass(frozen=True)
class Family:
    """A head of household, their spouse (the child's other parent) and the parent living with
    them (None once the demo registered the parent's death)."""

    head: registry.CitizenRecord
    spouse: registry.CitizenRecord
    parent: registry.CitizenRecord | None

    @property
    def ward(self) -> str:
        return _home_ward(self.head)


def _has_packages(pin: str) -> bool:
    return bool(dossiers.packages_of(actor=_citizen(pin), limit=1))


def family_of(pin: str) -> Family | None:
    """The demo's family around this head of household, or None when they do not fit: a living
    spouse in the household, the mother of a newborn 18-42 years old, and a parent on record
    living in the household (alive, unless an earlier demo run made this family's events)."""
    head = _record(pin)
    if not _living(head) or head is None or not head.spouse_pin:
        return None
    spouse = _record(head.spouse_pin)
    if spouse is None or not _living(spouse):
        return None
    mother = head if head.sex == "F" else spouse
    if not 18 <= _age(mother) <= 42:
        return None
    members = {m.pin for m in registry.household_of(actor=SYSTEM, pin=pin, purpose=PURPOSE).members}
    parents = [p for p in (head.father_pin, head.mother_pin) if p and p in members]
    if spouse.pin not in members or not parents:
        return None
    living = [r for r in map(_record, parents) if _living(r)]
    if _has_packages(pin):
        return Family(head, spouse, None)
    if not living:
        return None
    return Family(head, spouse, living[0])


def demo_family_head(*, skip: set[str]) -> tuple[str, str] | None:
    """(PIN, name) of the first household head in PIN order whose family fits the demo's life
    events (see `family_of`); the same person on every run (a head before them never fits:
    the demo's events only take spouses and parents away, never heads)."""
    for pin, name in registry.household_heads(limit=SCAN_HEADS):
        if pin not in skip and family_of(pin) is not None:
            return pin, name
    return None


# --- the demo's paperwork -----------------------------------------------------------------------


def _paper(authority: str, title: str) -> SimpleUploadedFile:
    content = document_pdf(Document(authority=authority, title=title, reference="", rows=[]))
    return SimpleUploadedFile(
        f"{uuid.uuid4().hex[:8]}.pdf", content, content_type="application/pdf"
    )


def _birth_package(
    applicant: str, child: str, sex: str, born: date
) -> dossier_services.PackageFiled:
    return dossier_services.package_submit(
        actor=_citizen(applicant),
        submission=dossier_services.PackageSubmission(
            kind="birth",
            declaration={
                "ho_ten_tre": child,
                "gioi_tinh": sex,
                "ngay_sinh": born.isoformat(),
                "noi_sinh": "Bệnh viện Đa khoa tỉnh Đồng Tháp",
            },
            steps=(),
            idempotency_key=uuid.uuid4().hex,
            files={"giay_chung_sinh": _paper("BỆNH VIỆN ĐA KHOA TỈNH", "GIẤY CHỨNG SINH")},
        ),
        eid_level=2,  # as a level-2 sign-in files it
    )


def _death_declaration(
    deceased: registry.CitizenRecord, died: date, relation: str
) -> dict[str, Any]:
    return {
        "nguoi_chet_pin": deceased.pin,
        "nguoi_chet_ho_ten": deceased.full_name,
        "ngay_chet": died.isoformat(),
        "noi_chet": "Tại nhà riêng",
        "nguyen_nhan_chet": "Bệnh già",
        "quan_he": relation,
        "so_tai_khoan": "7300205123456",
        "ngan_hang": "Ngân hàng Nông nghiệp và Phát triển Nông thôn Việt Nam",
    }


def _death_package(
    applicant: str,
    deceased: registry.CitizenRecord,
    *,
    died: date,
    relation: str,
    steps: tuple[str, ...],
) -> dossier_services.PackageFiled:
    return dossier_services.package_submit(
        actor=_citizen(applicant),
        submission=dossier_services.PackageSubmission(
            kind="death",
            declaration=_death_declaration(deceased, died, relation),
            steps=steps,
            idempotency_key=uuid.uuid4().hex,
            files={"giay_bao_tu": _paper("TRẠM Y TẾ XÃ", "GIẤY BÁO TỬ")},
        ),
        eid_level=2,
    )


def _death_dossier(
    applicant: str, deceased: registry.CitizenRecord, *, died: date, relation: str, agency: int
) -> int:
    """The death registration alone (not a package): the state then offers the family the rest."""
    return dossier_services.dossier_submit(
        actor=_citizen(applicant),
        eid_level=2,
        submission=dossier_services.Submission(
            procedure_code=DEATH,
            agency_id=agency,
            declaration={
                k: v
                for k, v in _death_declaration(deceased, died, relation).items()
                if k not in ("so_tai_khoan", "ngan_hang")
            },
            idempotency_key=uuid.uuid4().hex,
            files={"giay_bao_tu": _paper("TRẠM Y TẾ XÃ", "GIẤY BÁO TỬ")},
        ),
    ).id


# --- the officials at work ----------------------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """The demo officials, by agency kind: who may take which step there."""

    officials: dict[str, list[tuple[str, tuple[str, ...]]]]  # kind -> [(username, roles)]

    def usernames(self) -> Iterator[str]:
        for people in self.officials.values():
            for username, _roles in people:
                yield username

    def processor(self, kind: str) -> str:
        return next(u for u, roles in self.officials.get(kind, []) if "processor" in roles)


def _detail(username: str, dossier_id: int) -> dossiers.DossierDetail | None:
    try:
        return dossiers.dossier_detail(actor=_official(username), dossier_id=dossier_id)
    except DomainError:
        return None  # not an official of this dossier's agency


def _take(desk: Desk, dossier_id: int, action: str, note: str = "") -> bool:
    """The step by the first demo official allowed to take it now; False when nobody may."""
    for username in desk.usernames():
        detail = _detail(username, dossier_id)
        if detail is None or action not in {t.action for t in detail.actions}:
            continue
        assignee = desk.processor(detail.procedure.agency_kind) if action == "assign" else ""
        dossier_services.dossier_act(
            actor=_official(username),
            step=dossier_services.Step(
                dossier_id=dossier_id,
                action=action,
                version=detail.version,
                note=note,
                assignee=assignee,
            ),
        )
        return True
    return False


def _drive(desk: Desk, dossier_id: int, *, until: str = "return_result") -> None:
    for action in HAPPY_PATH:
        _take(desk, dossier_id, action)
        if action == until:
            return


def _steps(applicant: str, package_id: int) -> dict[int, int | None]:
    view = dossiers.package_detail(actor=_citizen(applicant), package_id=package_id)
    return {s.position: s.dossier_id for s in view.steps}


def _step_dossier(applicant: str, package_id: int, position: int) -> int:
    dossier_services.package_advance(package_id)
    dossier_id = _steps(applicant, package_id)[position]
    if dossier_id is None:
        view = dossiers.package_detail(actor=_citizen(applicant), package_id=package_id)
        raise RuntimeError(
            f"demo package {view.code}: step {position} was not filed "
            f"({[(s.position, s.status, s.reason) for s in view.steps]})"
        )
    return dossier_id


# --- the sectors' people ------------------------------------------------------------------------


def sectors_seed(*, extra_pensioners: list[str], extra_recipients: list[str]) -> tuple[int, int]:
    """Insured people and pensioners (heads of working age, heads from 60), social-assistance
    recipients (heads from 80 without a pension), by the year in their PIN; plus the people the
    demo's events need. Returns (insured and pensioners, recipients) added now."""
    this_year = timezone.localdate().year
    insured: list[str] = []
    pensioners: list[str] = []
    assisted: list[str] = []
    for index, (pin, _name) in enumerate(registry.household_heads(limit=100_000)):
        age = this_year - registry.pin_parse(pin).birth_year
        if 18 <= age < 60 and index % 3:
            insured.append(pin)
        elif 60 <= age < 80 and index % 2:
            pensioners.append(pin)
        elif age >= 80:
            (pensioners if index % 2 else assisted).append(pin)
    pensioners += [p for p in extra_pensioners if p not in pensioners]
    insured = [p for p in insured if p not in pensioners]
    assisted = [p for p in assisted + extra_recipients if p not in pensioners]
    since = date(this_year - 3, 1, 1)  # within the rates on record (from 2021-07)
    added = insurance.insurance_demo_seed(
        actor=SYSTEM, pins_insured=insured, pins_pensioners=pensioners, since=since
    )
    helped = benefits.benefits_demo_seed(actor=SYSTEM, pins=assisted, since=since)
    return added, helped


# --- the families ---------------------------------------------------------------------------------


def _heads_around(skip: set[str], ward: str) -> list[registry.CitizenRecord]:
    """Living heads of household not in `skip`, those of `ward` first."""
    heads = [r for r in map(_record, (p for p, _ in registry.household_heads(limit=SCAN_HEADS)))]
    found = [r for r in heads if r is not None and _living(r) and r.pin not in skip]
    return sorted(found, key=lambda r: _home_ward(r) != ward)


def _young_couple(heads: list[registry.CitizenRecord]) -> registry.CitizenRecord | None:
    """A head whose wife (or who, as a wife) could have a newborn."""
    for head in heads:
        spouse = _record(head.spouse_pin)
        if not _living(spouse) or spouse is None:
            continue
        mother = head if head.sex == "F" else spouse
        if 20 <= _age(mother) <= 40:
            return head
    return None


def _spouse_of_age(
    heads: list[registry.CitizenRecord], at_least: int, skip: set[str]
) -> tuple[registry.CitizenRecord, registry.CitizenRecord] | None:
    """(head, their spouse living in the household, at least `at_least` years old)."""
    for head in heads:
        spouse = _record(head.spouse_pin)
        if spouse is None or not _living(spouse) or spouse.pin in skip or _age(spouse) < at_least:
            continue
        members = registry.household_of(actor=SYSTEM, pin=head.pin, purpose=PURPOSE).members
        if spouse.pin in {m.pin for m in members}:
            return head, spouse
    return None


def _head_with_parent(
    heads: list[registry.CitizenRecord], skip: set[str]
) -> tuple[registry.CitizenRecord, registry.CitizenRecord] | None:
    """(head, their mother or father living in the household, at least 60 years old)."""
    for head in heads:
        members = registry.household_of(actor=SYSTEM, pin=head.pin, purpose=PURPOSE).members
        for member in members:
            if member.pin in skip or member.pin not in (head.father_pin, head.mother_pin):
                continue
            parent = _record(member.pin)
            if parent is not None and _living(parent) and _age(parent) >= 60:
                return head, parent
    return None


def _elder(heads: list[registry.CitizenRecord], skip: set[str]) -> registry.CitizenRecord | None:
    """The oldest living member (not a head) of the households looked at, at least 70."""
    best: registry.CitizenRecord | None = None
    for head in heads[:80]:
        members = registry.household_of(actor=SYSTEM, pin=head.pin, purpose=PURPOSE).members
        for member in members:
            if member.relation == "head" or member.pin in skip:
                continue
            record = _record(member.pin)
            if record is None or not _living(record) or _age(record) < 70:
                continue
            if best is None or _age(record) > _age(best):
                best = record
    return best


@dataclass(frozen=True)
class DemoPackage:
    code: str
    applicant_pin: str
    applicant_name: str
    status_label: str
    where: str  # the step it stands at, or the refused one, in words


@dataclass(frozen=True)
class DemoLifeEvents:
    made: bool  # False when an earlier run made them
    packages: list[DemoPackage]
    child: str  # the demo citizen's newborn, registered by the completed birth package
    offers: int  # offers waiting for the demo citizen
    insured: int
    assisted: int
    wards: list[str] = field(default_factory=list)  # the wards whose agencies the demo staffs
    problem: str = ""  # why nothing was made (a registry too small for the demo's families)


def _nothing(problem: str) -> DemoLifeEvents:
    return DemoLifeEvents(False, [], "", 0, 0, 0, problem=problem)


def _summary(applicants: list[str]) -> list[DemoPackage]:
    found = []
    for pin in applicants:
        for view in reversed(dossiers.packages_of(actor=_citizen(pin))):
            failed = view.failed_step
            current = next((s for s in view.steps if s.status == "filed"), None)
            where = (
                f"{failed.procedure_name}: {failed.reason}"
                if failed
                else f"{current.procedure_name} ({current.agency_name})"
                if current
                else ""
            )
            found.append(DemoPackage(view.code, pin, view.applicant_name, view.status_label, where))
    return found


def _waiting_offers(pin: str) -> int:
    return sum(1 for o in dossiers.offers_of(actor=_citizen(pin)) if o.status == "offered")


def _newborn(family: Family) -> str:
    children = registry.children_of(
        actor=_citizen(family.head.pin), pin=family.head.pin, purpose=PURPOSE
    )
    return children[-1].full_name if children else ""


def life_events_prepare(
    *, applicant: str, desk: Desk, staff: Any, others: set[str]
) -> DemoLifeEvents:
    """Make the demo's life events once (see the module's text); a later run reads them.
    `staff(wards)` places the demo's officials at those wards' agencies."""
    family = family_of(applicant)
    if family is None:
        return _nothing("no household in the demo registry fits (a couple with a parent)")
    if family.parent is None:  # made by an earlier run
        known = _summary([applicant])
        applicants = list(dict.fromkeys([applicant, *_other_applicants(applicant)]))
        return DemoLifeEvents(
            made=False,
            packages=_summary(applicants) if applicants else known,
            child=_newborn(family),
            offers=_waiting_offers(applicant),
            insured=0,
            assisted=0,
        )
    skip = {applicant, family.spouse.pin, family.parent.pin, *others}
    heads = _heads_around(skip, family.ward)
    parents = _young_couple(heads)
    if parents is None:
        return _nothing("no young couple in the demo registry")
    skip |= {parents.pin, parents.spouse_pin}
    heads = [h for h in heads if h.pin not in skip]
    widowed = _spouse_of_age(heads, 60, skip)
    if widowed is None:
        return _nothing("no older couple in the demo registry")
    skip |= {widowed[0].pin, widowed[1].pin}
    bereaved = _head_with_parent([h for h in heads if h.pin not in skip], skip)
    if bereaved is None:
        return _nothing("no household with a parent in the demo registry")
    skip |= {bereaved[0].pin, bereaved[1].pin}
    elder = _elder([h for h in heads if h.pin not in skip], skip)
    if elder is None:
        return _nothing("no elderly person in the demo registry")
    insured, assisted = sectors_seed(
        extra_pensioners=[family.parent.pin, widowed[1].pin],
        extra_recipients=[elder.pin, bereaved[1].pin],
    )
    wards = sorted(
        {family.ward, _home_ward(parents), _home_ward(widowed[0]), _home_ward(bereaved[0])}
    )
    staff(wards)
    today = timezone.localdate()

    # The demo citizen's newborn: the whole birth package, each agency in turn.
    child = "Nguyễn Ngọc Bảo An" if family.head.full_name.startswith("Nguyễn") else None
    child = child or f"{family.head.full_name.split()[0]} Ngọc Bảo An"
    born = _birth_package(applicant, child, "F", today - timedelta(days=12))
    _drive(desk, _step_dossier(applicant, born.id, 1))
    for position in (2, 3):
        _drive(desk, _step_dossier(applicant, born.id, position))
    dossier_services.package_advance(born.id)

    # Their parent dies: the death registered alone; the family is then offered the rest.
    commune = catalog.agency_serving(catalog.AgencyKind.COMMUNE, [family.ward])
    assert commune is not None
    relation = "con"
    death = _death_dossier(
        applicant, family.parent, died=today - timedelta(days=4), relation=relation,
        agency=commune.id,
    )  # fmt: skip
    _drive(desk, death)

    # A relative's funeral support, refused by the labour department: the package stops there.
    refused = _death_package(
        applicant, elder, died=today - timedelta(days=20), relation="nguoi_than_khac",
        steps=("death", "funeral"),
    )  # fmt: skip
    _drive(desk, _step_dossier(applicant, refused.id, 1))
    support = _step_dossier(applicant, refused.id, 3)  # the funeral step keeps its position
    _drive(desk, support, until="start")
    _take(desk, support, "reject", note=LABOUR_REFUSAL)
    dossier_services.package_advance(refused.id)

    # Another family's newborn: registered, carded, waiting at the commune police.
    other_birth = _birth_package(parents.pin, "Lê Minh Khang", "M", today - timedelta(days=2))
    _drive(desk, _step_dossier(parents.pin, other_birth.id, 1))
    _drive(desk, _step_dossier(parents.pin, other_birth.id, 3))
    _drive(desk, _step_dossier(parents.pin, other_birth.id, 2), until="assign")
    dossier_services.package_advance(other_birth.id)

    # A pensioner's death: registered, residence deleted, the allowance at social insurance.
    head, deceased = widowed
    other_death = _death_package(
        head.pin, deceased, died=today - timedelta(days=6), relation="vo_chong",
        steps=("death", "residence_delete", "funeral"),
    )  # fmt: skip
    _drive(desk, _step_dossier(head.pin, other_death.id, 1))
    _drive(desk, _step_dossier(head.pin, other_death.id, 2))
    _drive(desk, _step_dossier(head.pin, other_death.id, 3), until="start")
    dossier_services.package_advance(other_death.id)

    # A social-assistance recipient's death: registered, the funeral support at labour.
    child_of, parent = bereaved
    assisted_death = _death_package(
        child_of.pin, parent, died=today - timedelta(days=3), relation="con",
        steps=("death", "funeral"),
    )  # fmt: skip
    _drive(desk, _step_dossier(child_of.pin, assisted_death.id, 1))
    _drive(desk, _step_dossier(child_of.pin, assisted_death.id, 3), until="assign")
    dossier_services.package_advance(assisted_death.id)

    dossier_services.offers_scan()
    family = Family(family.head, family.spouse, None)
    return DemoLifeEvents(
        made=True,
        packages=_summary([applicant, parents.pin, head.pin, child_of.pin]),
        child=_newborn(family),
        offers=_waiting_offers(applicant),
        insured=insured,
        assisted=assisted,
        wards=wards,
    )


def _other_applicants(applicant: str) -> list[str]:
    """On a later run: who else filed the demo's packages (the other families' heads)."""
    found = []
    for pin, _name in registry.household_heads(limit=SCAN_HEADS):
        if pin != applicant and _has_packages(pin):
            found.append(pin)
    return found


# --- the partner portal ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPortal:
    name: str
    credentials: Credentials | None  # None when an earlier run registered it (shown once)
    webhook_url: str
    webhook_secret: str
    problem: str = ""  # why it could not be registered


def portal_prepare(*, redirect_uri: str, webhook_url: str) -> DemoPortal:
    """The province's own portal as a partner of the exchange, with a webhook subscription."""
    try:
        seeded = exchange.exchange_demo_seed(
            actor=SYSTEM, name=PARTNER_NAME, redirect_uri=redirect_uri, webhook_url=webhook_url
        )
    except Conflict:
        return DemoPortal(PARTNER_NAME, None, webhook_url, "")
    except ValidationFailed as error:
        return DemoPortal(PARTNER_NAME, None, webhook_url, "", "; ".join(error.errors.values()))
    return DemoPortal(
        PARTNER_NAME, seeded.credentials, seeded.subscription.url, seeded.subscription.secret
    )
