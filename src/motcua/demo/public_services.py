"""The demo's online public services: the catalog, the province's agencies, officials with their
roles at the demo citizens' ward, and dossiers at every stage, made through the services."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from motcua.catalog import selectors as catalog
from motcua.catalog import services as catalog_services
from motcua.core.actors import SYSTEM, Actor
from motcua.core.documents import Document, document_pdf
from motcua.dossiers import selectors as dossiers
from motcua.dossiers import services as dossier_services
from motcua.geo.selectors import unit_get, wards_of
from motcua.linkage import selectors as linkage
from motcua.linkage import services as linkage_services
from motcua.linkage.services import NOT_IN_REGISTRY, benchmark_make
from motcua.registry import selectors as registry
from motcua.registry.services import DEFAULT_PROVINCE

BIRTH = "1.001193"
TEMPORARY_RESIDENCE = "1.004194"


@dataclass(frozen=True)
class AgencyRole:
    username: str
    kind: str
    roles: tuple[str, ...]
    title: str
    group: str = ""  # the Django group of its permissions (the demo's default when empty)


SOCIAL_INSURANCE_GROUP = "Cán bộ bảo hiểm xã hội"
LABOUR_GROUP = "Cán bộ lao động – bảo trợ xã hội"


AGENCY_ROLES = (
    AgencyRole(
        "motcua.xa",
        catalog.AgencyKind.COMMUNE,
        ("receiver", "processor", "clerk"),
        "Công chức một cửa, tư pháp – hộ tịch xã / one-stop civil-status officer",
    ),
    AgencyRole(
        "chutich.xa",
        catalog.AgencyKind.COMMUNE,
        ("approver",),
        "Chủ tịch UBND xã / commune chairman (approver)",
    ),
    AgencyRole(
        "congan.xa",
        catalog.AgencyKind.COMMUNE_POLICE,
        ("receiver", "processor", "clerk"),
        "Cán bộ Công an xã (cư trú) / commune police residence officer",
    ),
    AgencyRole(
        "truong.congan.xa",
        catalog.AgencyKind.COMMUNE_POLICE,
        ("receiver", "approver"),
        "Trưởng Công an xã / commune police chief (approver)",
    ),
    AgencyRole(
        "bhxh.tinh",
        catalog.AgencyKind.SOCIAL_INSURANCE,
        ("receiver", "processor", "clerk"),
        "Cán bộ Bảo hiểm xã hội tỉnh (thẻ BHYT, mai táng, tử tuất) / social-insurance officer",
        SOCIAL_INSURANCE_GROUP,
    ),
    AgencyRole(
        "giamdoc.bhxh",
        catalog.AgencyKind.SOCIAL_INSURANCE,
        ("receiver", "approver"),
        "Giám đốc Bảo hiểm xã hội tỉnh / social-insurance director (approver)",
        SOCIAL_INSURANCE_GROUP,
    ),
    AgencyRole(
        "laodong.tinh",
        catalog.AgencyKind.LABOUR,
        ("receiver", "processor", "clerk"),
        "Cán bộ bảo trợ xã hội, cơ quan lao động tỉnh / social-assistance officer, labour",
        LABOUR_GROUP,
    ),
    AgencyRole(
        "giamdoc.laodong",
        catalog.AgencyKind.LABOUR,
        ("receiver", "approver"),
        "Lãnh đạo cơ quan lao động – xã hội tỉnh / labour department head (approver)",
        LABOUR_GROUP,
    ),
)


@dataclass(frozen=True)
class DemoServices:
    ward_name: str
    procedures: int
    agencies: int
    dossiers: int


def public_services_prepare(
    *, group: str, password: str, citizen_pins: list[str], home_pin: str
) -> DemoServices:
    """`home_pin`: the citizen whose ward's agencies the demo's officials work at."""
    procedures, workflows = catalog_services.catalog_files()
    catalog_services.catalog_load(
        actor=SYSTEM, procedures=procedures["procedures"], workflows=workflows["workflows"]
    )
    ward = _home_ward(home_pin)
    _agencies()
    officials_place(group=group, password=password, wards=[ward])
    made = 0
    if not dossiers.dossiers_of(actor=_citizen(citizen_pins[0])):
        made = _sample_dossiers(citizen_pins, ward)
    return DemoServices(
        ward_name=_unit_name(ward),
        procedures=len(procedures["procedures"]),
        agencies=len(catalog.agencies_of_kind(catalog.AgencyKind.COMMUNE)),
        dossiers=made,
    )


def _unit_name(key: str) -> str:
    unit = unit_get(key)
    return unit.full_name if unit else key


def _home_ward(pin: str) -> str:
    record = registry.citizen_get(actor=SYSTEM, pin=pin, purpose="Chuẩn bị dữ liệu trình diễn")
    permanent = [r.ward for r in record.residences if r.kind == "permanent"]
    return permanent[0] if permanent else record.residences[0].ward


def _agencies() -> None:
    province = unit_get(DEFAULT_PROVINCE)
    assert province is not None
    catalog_services.province_agencies_ensure(
        actor=SYSTEM,
        province=catalog_services.Place(province.key, province.code, province.name),
        wards=[catalog_services.Place(w.key, w.code, w.name) for w in wards_of(province.key)],
    )


def officials_place(*, group: str, password: str, wards: list[str]) -> None:
    """Each demo official, with its roles, at the agency of its kind serving each ward (the
    province's social insurance and labour department serve all its wards)."""
    for official in AGENCY_ROLES:
        user, created = User.objects.get_or_create(
            username=official.username, defaults={"is_staff": True}
        )
        if created:
            user.set_password(password)
            user.save()
        user.groups.add(*user.groups.model.objects.filter(name=official.group or group))
        for ward in wards:
            agency = catalog.agency_serving(official.kind, [ward])
            assert agency is not None, (official.kind, ward)
            for role in official.roles:
                catalog_services.official_assign(
                    actor=SYSTEM, username=official.username, agency_code=agency.code, role=role
                )


def _citizen(pin: str) -> Actor:
    return Actor(kind="citizen", ref=pin, pin=pin)


def _official(username: str) -> Actor:
    return Actor.from_user(User.objects.get(username=username))


def _paper(title: str) -> SimpleUploadedFile:
    content = document_pdf(
        Document(authority="BỆNH VIỆN ĐA KHOA TỈNH", title=title, reference="", rows=[])
    )
    return SimpleUploadedFile(
        f"{uuid.uuid4().hex[:8]}.pdf", content, content_type="application/pdf"
    )


def _mother_for(parent: registry.CitizenRecord, skip: set[str]) -> str:
    """The child's mother: the parent herself, a father's wife, else (in the demo) a woman of
    the registry."""
    if parent.sex == "F":
        return parent.pin
    if parent.spouse_pin:
        return parent.spouse_pin
    for pin, _name in registry.household_heads(limit=200):
        if pin in skip:
            continue
        woman = registry.citizen_get(actor=SYSTEM, pin=pin, purpose="Chuẩn bị dữ liệu trình diễn")
        if woman.sex == "F" and woman.status == "living":
            return pin
    raise LookupError("no woman in the demo registry")


def _birth(
    pin: str, ward: str, child: str, *, days_ago: int, skip: set[str]
) -> dossier_services.Submitted:
    """A parent registers their newborn; the registry knows the parent, so only the hospital's
    birth certificate is uploaded."""
    born = (timezone.localdate() - timedelta(days=days_ago)).isoformat()
    parent = registry.citizen_get(actor=_citizen(pin), pin=pin, purpose="Khai sinh cho con")
    relation = "me" if parent.sex == "F" else "cha"
    mother = _mother_for(parent, skip)
    skip.add(mother)  # the next sample birth names another mother
    agency = catalog.agency_serving(catalog.AgencyKind.COMMUNE, [ward])
    assert agency is not None
    return dossier_services.dossier_submit(
        actor=_citizen(pin),
        eid_level=2,  # filed as a level-2 sign-in would file it
        submission=dossier_services.Submission(
            procedure_code=BIRTH,
            agency_id=agency.id,
            declaration={
                "ho_ten_tre": child,
                "gioi_tinh": "F",
                "ngay_sinh": born,
                "noi_sinh": "Bệnh viện Đa khoa tỉnh Đồng Tháp",
                "dan_toc": "Kinh",
                "que_quan": "Đồng Tháp",
                "me_pin": mother,
                **({"cha_pin": pin} if relation == "cha" else {}),
                "quan_he_nguoi_yeu_cau": relation,
            },
            idempotency_key=uuid.uuid4().hex,
            files={"giay_chung_sinh": _paper("GIẤY CHỨNG SINH")},
        ),
    )


def _step(username: str, dossier_id: int, action: str, note: str = "") -> None:
    version = dossiers.dossier_detail(actor=_official(username), dossier_id=dossier_id).version
    dossier_services.dossier_act(
        actor=_official(username),
        step=dossier_services.Step(
            dossier_id=dossier_id, action=action, version=version, note=note
        ),
    )


def _sample_dossiers(pins: list[str], ward: str) -> int:
    """Birth registrations (alone, not as a package) at each stage, filed by the level-1 demo
    citizen: returned and rated, received, and just submitted. The level-2 citizen's family
    has its own newborn, through the birth package (demo.life_events)."""
    skip = set(pins)
    returned = _birth(pins[0], ward, "Nguyễn Thị Mai Anh", days_ago=40, skip=skip)
    for username, action in (
        ("motcua.xa", "receive"),
        ("chutich.xa", "approve"),
        ("motcua.xa", "issue_result"),
        ("motcua.xa", "return_result"),
    ):
        _step(username, returned.id, action)
    dossier_services.dossier_rate(
        actor=_citizen(pins[0]),
        dossier_id=returned.id,
        score=5,
        comment="Nhanh, không phải đi lại.",
    )
    waiting = _birth(pins[0], ward, "Nguyễn Minh Khoa", days_ago=10, skip=skip)
    _step("motcua.xa", waiting.id, "receive")
    _birth(pins[0], ward, "Nguyễn Gia Huy", days_ago=3, skip=skip)
    return 3


# --- record linkage -----------------------------------------------------------------------------

LINKAGE_OFFICIAL = "lamsach.congan"
LINKAGE_RECORDS = 1500
LINKAGE_SEED = 2026
LINKAGE_KEY = "demo-linkage-gplx-1"  # the demo's one job: a second run finds it


@dataclass(frozen=True)
class DemoLinkage:
    job_id: int
    records: int
    linked: int
    review: int
    pending: int
    made: bool  # False when an earlier run made the job


def linkage_demo_prepare(*, citizens: int) -> DemoLinkage:
    """A finished linkage job of driver's licences with pairs waiting for review, made once by
    the data-cleaning official through the services: a synthetic dataset drawn from the demo
    registry, started like an upload, run here rather than by the worker."""
    _linkage_official_placed()
    actor = _official(LINKAGE_OFFICIAL)
    jobs = [j for j in linkage.linkage_jobs(actor=actor) if j.created_by == LINKAGE_OFFICIAL]
    done = next((j.id for j in jobs if j.status == "done"), None)
    if done is None:
        # The demo's job, made now or left unfinished by an earlier run (which it resumes).
        job_id = jobs[-1].id if jobs else _demo_job_started(actor, citizens)
        linkage_services.linkage_job_run(job_id=job_id)
    job = linkage.linkage_job_get(actor=actor, job_id=done or job_id)
    return DemoLinkage(
        job.row.id, job.records, job.row.linked, job.row.review, job.row.pending, done is None
    )


def _linkage_official_placed() -> None:
    """The data-cleaning official works for the provincial police: its linkage jobs are theirs."""
    police = catalog.agency_serving(catalog.AgencyKind.PROVINCE_POLICE, [DEFAULT_PROVINCE])
    assert police is not None
    catalog_services.official_assign(
        actor=SYSTEM, username=LINKAGE_OFFICIAL, agency_code=police.code, role="processor"
    )


def _demo_job_started(actor: Actor, citizens: int) -> int:
    # A sector database mostly holds people of the registry: as many records as it can hold.
    records = min(LINKAGE_RECORDS, int(citizens * (1 - NOT_IN_REGISTRY)))
    with tempfile.TemporaryDirectory(prefix="motcua-linkage-demo-") as scratch:
        files = benchmark_make(
            registry=citizens,
            records=records,
            seed=LINKAGE_SEED,
            out_dir=Path(scratch),
            kind="gplx",
            province_key=DEFAULT_PROVINCE,
        )
        upload = SimpleUploadedFile(
            "gplx-dong-thap.parquet",
            files.dataset.read_bytes(),
            content_type="application/vnd.apache.parquet",
        )
        return linkage_services.linkage_job_start(
            actor=actor, upload=upload, kind="gplx", idempotency_key=LINKAGE_KEY
        ).id
