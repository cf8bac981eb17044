"""`motcua bench linked`: the birth package (Decree 63/2024) beside the same three procedures filed
one by one, in the same run on the same data. Runs inside a database of its own (see the bench
command).

Set-up (not timed): the shipped catalog, the agencies of province 2025:82 and of every one of its
wards, one official per agency holding every role there, and a synthetic population
(`registry.seed.population_load`, loaded until there are enough couples) from which the families
are drawn: a living wife of 18-45 and her living husband, married to each other, both in the
same household as its head and spouse, with a permanent residence in a ward of the province.
Each family has one newborn, registered once: by a package or separately, never both.

What is timed, per birth, from the citizen's submission to the last result:

- package: `package_submit` (the four fields the package form asks and the hospital's birth
  certificate; the birth registration is filed with the package), then the saga:
  `package_advance` in-process whenever an official action brings a step's dossier to its
  result or its refusal (`package_wakes_on`: when the system wakes the worker; no worker runs,
  so the jobs the system queues stay queued: deferring them is counted, running them is not),
  and each step's dossier taken by its agency's official along the happy path
  receive → assign → start → approve → issue_result
  (actions the procedure's workflow lacks skipped). Done when the package is completed.
- separate: the same parent files 1.001193 (birth registration), then 1.004222 (permanent
  residence of the child, with the PIN read off the birth registration's result), then 1.011921
  (the child's health-insurance card) with `dossier_submit`, each as soon as the one before has
  its result, each processed by the same officials in the same way.

Figures:

- `package_s`: median wall seconds of one package end to end, packages run one at a time
  (`package_s_loaded`: the same under the run's load).
- `packages_per_s`, `separate_per_s`: births completed per second, `--workers` processes driving
  at once (each with its own database connection). The run alternates rounds of packages and
  rounds of separate births, so that both paths meet the database at the same sizes.
- `work_ratio`: processing work per birth of the package path ÷ of the separate path, work being
  CPU seconds of the driving processes plus those of their database server backends (read
  from /proc; where the server is not on this machine, wall seconds of the driving processes).
- `citizen_fields_*`: fields the citizen types. Package: the fields of the package form (what
  the bench types into `PackageSubmission.declaration`). Separate: for each of the three
  dossiers, the form's fields (its JSON Schema) that the registry does not pre-fill
  (`x-prefill`) and that the parent fills in to get the same decision as the package's step:
  the parent types the values the package fills from the registry (parents' PINs, ethnicity,
  home town, household, address, the child's PIN, relation). The bench checks that these are
  exactly the non-pre-filled fields the package's step dossiers carry.
- `citizen_files_*`: uploads. Package: the files given to `package_submit`. Separate: for each
  dossier, the papers `papers_of` says are to be uploaded (nobody holds them) and required, at
  the moment it is filed (the health card's birth extract is held once the birth registration
  has its result).

Also: the SQL statements of one birth each way (`queries_*`), the client CPU of the saga's
`package_advance` calls per package, and outcomes (the child registered with both parents, a member of the parents' household,
holding a health-insurance card), per path, and the first failures if any birth did not
complete.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from motcua.catalog.selectors import (
    AgencyKind,
    Role,
    agencies_of_kind,
    agency_serving,
    procedure_current,
    version_get,
)
from motcua.catalog.services import (
    Place,
    catalog_files,
    catalog_load,
    official_assign,
    province_agencies_ensure,
)
from motcua.core.actors import SYSTEM, Actor
from motcua.core.documents import Document, document_pdf
from motcua.dossiers import selectors as dossier_selectors
from motcua.dossiers import services as dossier_services
from motcua.dossiers.models import Dossier, DossierEffect, Package, PackageStep
from motcua.geo.selectors import unit_get, units_get, wards_of
from motcua.insurance.models import HealthCard
from motcua.registry.models import Citizen, Household, HouseholdMember
from motcua.registry.seed import population_load

PROVINCE = "2025:82"
BIRTH, RESIDENCE, HEALTH_CARD = "1.001193", "1.004222", "1.011921"
UPLOAD = "giay_chung_sinh"
HAPPY_PATH = ("receive", "assign", "start", "approve", "issue_result")
KINDS = (AgencyKind.COMMUNE, AgencyKind.COMMUNE_POLICE, AgencyKind.SOCIAL_INSURANCE)
FIRST_TRIES = 5  # families kept for counting what the citizen does (the first pair that completes)
SOLO = 5  # births of each path run one at a time for `package_s` (after one warm-up each)
MAX_ROUNDS = 10
CITIZENS_PER_FAMILY = 10  # a first guess at the population that holds one eligible couple
MOTHER_AGES = (18, 45)
MAX_FAILURES_SHOWN = 3
# How the newborn stands to the household's head when the parent is the head or the spouse.
CHILD_OF_HEAD = "con"

GIVEN = {
    "M": ("Minh Khang", "Gia Bảo", "Đức Anh", "Hoàng Nam", "Quốc Huy", "Minh Quân"),
    "F": ("Ngọc Hân", "Bảo Anh", "Khánh Linh", "Minh Thư", "Gia Hân", "Thảo Vy"),
}
MIDDLE = {"M": "Văn", "F": "Thị"}
BIRTH_PLACES = ("Bệnh viện Đa khoa tỉnh Đồng Tháp", "Bệnh viện Sản Nhi Đồng Tháp")


def run(*, packages: int, seed: int, workers: int) -> dict[str, Any]:
    if packages < 1 or workers < 1:
        raise ValueError("packages and workers must be positive")
    with _quiet_outside_world():
        return _run(packages, seed, workers)


@contextmanager
def _quiet_outside_world() -> Iterator[None]:
    """Uploads in a folder of the run's own (removed afterwards); the citizens' e-mails and text
    messages about their dossiers go nowhere (stdout carries the JSON line)."""
    folder = tempfile.mkdtemp(prefix="motcua-bench-linked-")
    private = {**settings.STORAGES["private"]}
    private["OPTIONS"] = {**private.get("OPTIONS", {}), "location": folder}
    try:
        with override_settings(
            STORAGES={**settings.STORAGES, "private": private},
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
            SMS_GATEWAY="motcua.bench.linked.SilentSmsGateway",
        ):
            yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class SilentSmsGateway:
    def send(self, phone: str, text: str) -> None:
        pass


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the families ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    mother_pin: str
    father_pin: str
    head_pin: str
    ethnicity: str
    hometown_name: str
    address: str  # the household's address with its ward, as the residence form asks it
    ward: str
    household_id: int
    child_name: str
    child_sex: str
    born: str
    birth_place: str

    def typed_for_package(self) -> dict[str, Any]:
        """What the package form asks: only what the state cannot know."""
        return {
            "ho_ten_tre": self.child_name,
            "gioi_tinh": self.child_sex,
            "ngay_sinh": self.born,
            "noi_sinh": self.birth_place,
        }

    def known_to_parent(self, child_pin: str) -> dict[str, Any]:
        """Every value the parent may have to type on the separate forms: the same ones the
        package takes from the registry (or from the birth registration's result)."""
        return {
            **self.typed_for_package(),
            "me_pin": self.mother_pin,
            "cha_pin": self.father_pin,
            "dan_toc": self.ethnicity,
            "que_quan": self.hometown_name,
            "quan_he_nguoi_yeu_cau": "me",
            "dia_chi_thuong_tru_moi": self.address,
            "truong_hop": "ve_o_voi_nguoi_than",
            "chu_ho_pin": self.head_pin,
            "quan_he_voi_chu_ho": CHILD_OF_HEAD,
            "quan_he": "me",
            "hinh_thuc_nhan": "dien_tu",
            "noi_kcb_ban_dau": f"Trạm Y tế {self.address.rsplit(', ', 1)[-1]}",
            **({"tre_pin": child_pin, "nguoi_dang_ky_pin": child_pin} if child_pin else {}),
        }


def _families(needed: int, seed: int) -> list[Family]:
    """Load citizens until the registry holds `needed` eligible couples; draw them at random."""
    found: list[tuple[Any, ...]] = []
    loads = 0
    while len(found) < needed:
        citizens = max(1000, (needed - len(found)) * CITIZENS_PER_FAMILY)
        _log(f"loading {citizens:,} citizens ...")
        population_load(citizens, province_key=PROVINCE, seed=seed + loads)
        loads += 1
        found = _couples()
        _log(f"  {len(found):,} eligible couples (need {needed:,})")
        if loads > 20:
            raise RuntimeError("the population does not yield enough couples")
    rng = Random(seed)
    chosen = rng.sample(found, needed)
    places = units_get([row[5] for row in chosen] + [row[7] for row in chosen])
    today = timezone.localdate()
    families = []
    for mother, father, father_name, head, ethnicity, hometown, address, ward, household in chosen:
        sex = rng.choice("MF")
        surname = father_name.split()[0]  # the child carries the father's family name
        ward_name = places[ward].full_name if ward in places else ""
        families.append(
            Family(
                mother_pin=mother,
                father_pin=father,
                head_pin=head,
                ethnicity=ethnicity,
                hometown_name=places[hometown].full_name if hometown in places else "",
                address=f"{address}, {ward_name}",
                ward=ward,
                household_id=household,
                child_name=f"{surname} {MIDDLE[sex]} {rng.choice(GIVEN[sex])}",
                child_sex=sex,
                born=(today - timedelta(days=rng.randrange(0, 30))).isoformat(),
                birth_place=rng.choice(BIRTH_PLACES),
            )
        )
    return families


def _couples() -> list[tuple[Any, ...]]:
    today = date.today()
    youngest = today.replace(year=today.year - MOTHER_AGES[0])
    oldest = today.replace(year=today.year - MOTHER_AGES[1] - 1)
    members = HouseholdMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT w.pin, h.pin, h.full_name, head.citizen_pin, w.ethnicity, w.hometown, hh.address, hh.ward,
                   hh.id
            FROM {members} wm
            JOIN {Citizen._meta.db_table} w ON w.pin = wm.citizen_pin
            JOIN {Citizen._meta.db_table} h ON h.pin = w.spouse_pin AND h.spouse_pin = w.pin
            JOIN {members} hm ON hm.citizen_pin = h.pin AND hm.household_id = wm.household_id
            JOIN {Household._meta.db_table} hh ON hh.id = wm.household_id
            JOIN {members} head ON head.household_id = hh.id AND head.relation = 'head'
                 AND head.left_on IS NULL
            WHERE wm.left_on IS NULL AND hm.left_on IS NULL
              AND wm.relation IN ('head', 'spouse') AND hm.relation IN ('head', 'spouse')
              AND w.sex = 'F' AND h.sex = 'M'
              AND w.death_date IS NULL AND h.death_date IS NULL
              AND w.birth_date_precision = 'day' AND w.birth_date BETWEEN %s AND %s
              AND NOT EXISTS (SELECT 1 FROM {Citizen._meta.db_table} c
                              WHERE c.mother_pin = w.pin AND c.birth_date > %s)
            ORDER BY w.pin
            """,  # noqa: S608 - table names from the models
            [oldest, youngest, today - timedelta(days=400)],
        )
        return list(cursor.fetchall())


# --- the agencies and their officials ---------------------------------------------------------


def _agencies() -> None:
    procedures, workflows = catalog_files()
    catalog_load(
        actor=SYSTEM, procedures=procedures["procedures"], workflows=workflows["workflows"]
    )
    province = unit_get(PROVINCE)
    assert province is not None
    wards = [Place(w.key, w.code, w.name) for w in wards_of(PROVINCE)]
    province_agencies_ensure(
        actor=SYSTEM, province=Place(province.key, province.code, province.name), wards=wards
    )


def _desks() -> dict[int, Actor]:
    """One official per agency that takes part, holding every role there."""
    desks = {}
    users = get_user_model()
    for kind in KINDS:
        for agency in agencies_of_kind(kind):
            username = f"bench.cb{agency.id}"
            user = users.objects.create_user(username=username, password=None, is_staff=True)
            for role in Role.values:
                official_assign(actor=SYSTEM, username=username, agency_code=agency.code, role=role)
            desks[agency.id] = Actor.from_user(user)
    return desks


# The worker processes inherit these from the parent (fork).
_DESKS: dict[int, Actor] = {}
_SERVING: dict[tuple[str, str], int] = {}
_PDF = b""
_advance_cpu_s = 0.0  # this process's CPU seconds in `package_advance` (the saga)


def _serving(families: list[Family]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for ward in {f.ward for f in families}:
        for kind in KINDS:
            agency = agency_serving(kind, [ward])
            if agency is None:
                raise RuntimeError(f"no {kind} agency serves {ward}")
            found[kind, ward] = agency.id
    return found


def _certificate() -> bytes:
    return document_pdf(
        Document(
            authority="BỆNH VIỆN ĐA KHOA TỈNH ĐỒNG THÁP",
            title="GIẤY CHỨNG SINH",
            reference="Số: 1234/GCS",
            rows=[("Sinh con lúc", "08 giờ 15 phút"), ("Cân nặng", "3.200 gam")],
        )
    )


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("giay-chung-sinh.pdf", _PDF, content_type="application/pdf")


# --- one birth, each way ------------------------------------------------------------------------


def _citizen(pin: str) -> Actor:
    return Actor(kind="citizen", ref=pin, pin=pin)


def _drive(dossier_id: int, after_each: Callable[[str], None] | None = None) -> None:
    """Take the dossier to its result as its agency's official does, step by step."""
    row = Dossier.objects.values("agency_id", "status", "version", "procedure_version_id").get(
        pk=dossier_id
    )
    official = _DESKS[row["agency_id"]]
    snapshot = version_get(row["procedure_version_id"])
    status, version = row["status"], row["version"]
    for action in HAPPY_PATH:
        transition = snapshot.transition(action)
        if transition is None or status not in transition.sources:
            continue
        dossier = dossier_services.dossier_act(
            actor=official,
            step=dossier_services.Step(
                dossier_id=dossier_id,
                action=action,
                version=version,
                assignee=official.ref if action == "assign" else "",
            ),
        )
        status, version = dossier.status, dossier.version
        if after_each is not None:
            after_each(status)


def _package_birth(family: Family) -> None:
    filed = dossier_services.package_submit(
        actor=_citizen(family.mother_pin),
        submission=dossier_services.PackageSubmission(
            kind="birth",
            declaration=family.typed_for_package(),
            steps=(),
            idempotency_key=uuid.uuid4().hex,
            files={UPLOAD: _upload()},
        ),
        eid_level=2,
    )

    def advance(status: str = "") -> None:
        """What the worker does when the saga is woken: after the submission, and when a
        step's dossier reaches what the saga waits for (its result or its refusal)."""
        global _advance_cpu_s
        if status and not dossier_services.package_wakes_on(status):
            return
        start = time.process_time()
        dossier_services.package_advance(filed.id)
        _advance_cpu_s += time.process_time() - start

    driven: set[int] = set()
    while True:
        # The agencies' queues: the step dossiers filed so far.
        filed_now = set(
            PackageStep.objects.filter(package_id=filed.id, dossier__isnull=False).values_list(
                "dossier_id", flat=True
            )
        )
        new = sorted(filed_now - driven)
        if not new:
            break
        for dossier_id in new:
            _drive(dossier_id, after_each=advance)
            driven.add(dossier_id)
    status = Package.objects.values_list("status", flat=True).get(pk=filed.id)
    if status != "completed":
        reasons = PackageStep.objects.filter(package_id=filed.id).exclude(reason="")
        raise RuntimeError(
            f"package {filed.code} {status}: "
            + "; ".join(f"step {s.position}: {s.reason}" for s in reasons)
        )


def _separate_birth(family: Family, *, count: dict[str, int] | None = None) -> None:
    """The three dossiers one after the other, each filed once the one before has its result.
    With `count`, tally what the parent typed and uploaded."""
    actor = _citizen(family.mother_pin)
    child_pin = ""
    for code in (BIRTH, RESIDENCE, HEALTH_CARD):
        snapshot = procedure_current(code)
        declaration = _typed(snapshot.form_schema, family.known_to_parent(child_pin))
        uploads = {UPLOAD} if code == BIRTH else set()
        if count is not None:
            needed = _uploads_needed(actor, code)
            count["fields"] += len(declaration)
            count["files"] += len(needed)
            uploads = needed
        filed = dossier_services.dossier_submit(
            actor=actor,
            submission=dossier_services.Submission(
                procedure_code=code,
                agency_id=_SERVING[snapshot.agency_kind, family.ward],
                declaration=declaration,
                idempotency_key=uuid.uuid4().hex,
                files={name: _upload() for name in uploads},
            ),
            eid_level=2,
        )
        _drive(filed.id)
        if code == BIRTH:  # the parent reads the child's PIN off the result
            outputs = DossierEffect.objects.values_list("outputs", flat=True).get(
                dossier_id=filed.id, name="birth_register"
            )
            child_pin = outputs["pin"]


def _typed(schema: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """The form's fields the registry does not pre-fill, as far as the parent has values."""
    return {
        name: known[name]
        for name, prop in schema["properties"].items()
        if "x-prefill" not in prop and known.get(name) not in (None, "")
    }


def _uploads_needed(actor: Actor, code: str) -> set[str]:
    papers = dossier_selectors.papers_of(actor=actor, procedure_code=code) or []
    return {p.component.code for p in papers if p.upload and p.component.required}


# --- driving many -------------------------------------------------------------------------------


@dataclass
class Tally:
    done: int = 0
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    seconds: list[float] = field(default_factory=list)  # each completed birth, end to end
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    busy_s: float = 0.0  # wall seconds the driving processes spent
    advance_cpu_s: float = 0.0  # of client_cpu_s: in `package_advance`
    server_measured: bool = True

    def add(self, other: Tally) -> None:
        self.done += other.done
        self.failed += other.failed
        self.failures += other.failures[: MAX_FAILURES_SHOWN - len(self.failures)]
        self.seconds += other.seconds
        self.client_cpu_s += other.client_cpu_s
        self.server_cpu_s += other.server_cpu_s
        self.busy_s += other.busy_s
        self.advance_cpu_s += other.advance_cpu_s
        self.server_measured = self.server_measured and other.server_measured


def _backend() -> tuple[int, float] | None:
    """The database backend serving this process, and its CPU seconds so far, when it runs
    on this machine."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/comm") as comm:
            if not comm.read().startswith("postgres"):
                return None
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _births(way: str, families: list[Family]) -> Tally:
    """One after the other in this process: each way's births, with the work they took."""
    birth = _package_birth if way == "package" else _separate_birth
    tally = Tally()
    server_before = _backend()
    advance_before = _advance_cpu_s
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    for family in families:
        start = time.perf_counter()
        try:
            birth(family)
        except Exception as error:  # a birth that did not complete: counted and shown
            tally.failed += 1
            if len(tally.failures) < MAX_FAILURES_SHOWN:
                tally.failures.append(f"{type(error).__name__}: {error}"[:500])
            continue
        tally.done += 1
        tally.seconds.append(time.perf_counter() - start)
    tally.busy_s = time.perf_counter() - wall_before
    tally.client_cpu_s = time.process_time() - cpu_before
    tally.advance_cpu_s = _advance_cpu_s - advance_before
    server_after = _backend()
    if server_before and server_after and server_before[0] == server_after[0]:
        tally.server_cpu_s = server_after[1] - server_before[1]
    else:
        tally.server_measured = False
    return tally


def _births_in_worker(way: str, families: list[Family]) -> Tally:
    return _births(way, families)


def _rounds(
    families: dict[str, list[Family]], workers: int
) -> tuple[dict[str, Tally], dict[str, float]]:
    """Rounds of packages and of separate births in turn (which goes first alternates), each
    round's births shared among the worker processes; the wall seconds of each way."""
    n = len(families["package"])
    rounds = min(MAX_ROUNDS, n)
    tallies = {way: Tally() for way in families}
    walls = dict.fromkeys(families, 0.0)
    connection.close()  # each worker opens its own connection
    gc.collect()
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        for r in range(rounds):
            lo, hi = n * r // rounds, n * (r + 1) // rounds
            order = ("package", "separate") if r % 2 == 0 else ("separate", "package")
            for way in order:
                chunk = families[way][lo:hi]
                shares = [chunk[i::workers] for i in range(workers) if chunk[i::workers]]
                start = time.perf_counter()
                for tally in pool.map(_births_in_worker, [way] * len(shares), shares):
                    tallies[way].add(tally)
                walls[way] += time.perf_counter() - start
            _log(
                f"  round {r + 1}/{rounds}: {tallies['package'].done:,} packages, "
                f"{tallies['separate'].done:,} separate births"
            )
    return tallies, walls


# --- what the citizen did -----------------------------------------------------------------------


def _citizen_work(
    package_families: list[Family], separate_families: list[Family]
) -> tuple[dict[str, int], list[str]]:
    """Fields and uploads of one birth each way (filed and processed here, which warms up the
    caches too): the first pair of families whose births both complete; the failures met."""
    failures = []
    for package_family, separate_family in zip(package_families, separate_families, strict=True):
        count = {"fields": 0, "files": 0}
        try:
            _separate_birth(separate_family, count=count)
            _package_birth(package_family)
        except Exception as error:  # shown in the result, as the other failures
            failures.append(f"{type(error).__name__}: {error}"[:500])
            continue
        _same_fields_as_the_package(package_family, separate_family)
        return {
            "citizen_fields_package": len(package_family.typed_for_package()),
            "citizen_fields_separate": count["fields"],
            "citizen_files_package": 1,  # the one upload given to package_submit (UPLOAD)
            "citizen_files_separate": count["files"],
        }, failures
    raise RuntimeError(f"no birth completed both ways: {failures}")


def _same_fields_as_the_package(package_family: Family, separate_family: Family) -> None:
    """The separate dossiers carry the same non-pre-filled fields as the package's steps: the
    parent typed what the package filled in, no more, no less."""
    for code in (BIRTH, RESIDENCE, HEALTH_CARD):
        schema = procedure_current(code).form_schema
        wanted = {n for n, p in schema["properties"].items() if "x-prefill" not in p}
        filled = {}
        for way, family in (("package", package_family), ("separate", separate_family)):
            declaration = (
                Dossier.objects.filter(
                    procedure_code=code,
                    applicant_pin=family.mother_pin,
                    package_step__isnull=way == "separate",
                )
                .values_list("declaration", flat=True)
                .get()
            )
            filled[way] = {k for k, v in declaration.items() if k in wanted and v not in ("", None)}
        if filled["package"] != filled["separate"]:
            raise RuntimeError(
                f"{code}: the package's step carries {sorted(filled['package'])}, the separate "
                f"dossier {sorted(filled['separate'])}"
            )


# --- outcomes -------------------------------------------------------------------------------------


def _outcomes() -> dict[str, dict[str, int]]:
    """Per path: births registered, children with both parents on record, children in their
    parents' household, children holding a health-insurance card."""
    steps, dossiers = PackageStep._meta.db_table, Dossier._meta.db_table
    effects, members = DossierEffect._meta.db_table, HouseholdMember._meta.db_table
    citizens, cards = Citizen._meta.db_table, HealthCard._meta.db_table
    found: dict[str, dict[str, int]] = {}
    for way, in_package in (("package", True), ("separate", False)):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH births AS (
                    SELECT d.applicant_pin AS parent, e.outputs->>'pin' AS child
                    FROM {dossiers} d
                    JOIN {effects} e ON e.dossier_id = d.id AND e.name = 'birth_register'
                    WHERE d.procedure_code = %s
                      AND EXISTS (SELECT 1 FROM {steps} s WHERE s.dossier_id = d.id) = %s
                )
                SELECT count(*),
                       count(*) FILTER (WHERE c.mother_pin <> '' AND c.father_pin <> ''),
                       count(*) FILTER (WHERE EXISTS (
                           SELECT 1 FROM {members} cm JOIN {members} pm
                             ON pm.household_id = cm.household_id
                           WHERE cm.citizen_pin = b.child AND cm.left_on IS NULL
                             AND pm.citizen_pin = b.parent AND pm.left_on IS NULL)),
                       count(*) FILTER (WHERE EXISTS (
                           SELECT 1 FROM {cards} h WHERE h.pin = b.child))
                FROM births b JOIN {citizens} c ON c.pin = b.child
                """,  # noqa: S608 - table names from the models
                [BIRTH, in_package],
            )
            registered, parents, household, card = cursor.fetchone()
        found[way] = {
            "births_registered": registered,
            "with_both_parents": parents,
            "in_parents_household": household,
            "with_health_card": card,
        }
    return found


# --- the run ------------------------------------------------------------------------------------


def _median(samples: list[float]) -> float | None:
    return round(statistics.median(samples), 3) if samples else None


def _run(packages: int, seed: int, workers: int) -> dict[str, Any]:
    global _DESKS, _SERVING, _PDF
    started = time.perf_counter()
    _log("catalog, agencies and officials ...")
    _agencies()
    _DESKS = _desks()
    per_way = packages + SOLO + FIRST_TRIES + 1
    families = _families(2 * per_way, seed)
    _SERVING = _serving(families)
    _PDF = _certificate()
    setup_s = time.perf_counter() - started
    package_families, separate_families = families[:per_way], families[per_way:]

    _log("one birth each way, counting what the citizen does ...")
    citizen, first_failures = _citizen_work(
        package_families[:FIRST_TRIES], separate_families[:FIRST_TRIES]
    )
    _log(f"{SOLO} births each way, one at a time ...")
    solo = {
        "package": _births("package", package_families[FIRST_TRIES : FIRST_TRIES + SOLO]),
        "separate": _births("separate", separate_families[FIRST_TRIES : FIRST_TRIES + SOLO]),
    }
    queries = {}
    for way, family in (("package", package_families[-1]), ("separate", separate_families[-1])):
        with CaptureQueriesContext(connection) as captured:
            _births(way, [family])
        queries[way] = len(captured.captured_queries)
    _log(f"{packages:,} births each way, {workers} processes driving ...")
    tallies, walls = _rounds(
        {
            "package": package_families[FIRST_TRIES + SOLO : -1],
            "separate": separate_families[FIRST_TRIES + SOLO : -1],
        },
        workers,
    )
    outcomes = _outcomes()
    measured = all(t.server_measured for t in tallies.values())

    def work(tally: Tally) -> float:
        spent = tally.client_cpu_s + tally.server_cpu_s if measured else tally.busy_s
        return spent / max(tally.done + tally.failed, 1)

    package, separate = tallies["package"], tallies["separate"]
    failures = first_failures + package.failures + separate.failures
    if failures:
        _log(f"births that did not complete: {failures}")
    ok = all(
        o["in_parents_household"] == o["births_registered"]
        and o["with_health_card"] == o["births_registered"]
        for o in outcomes.values()
    )
    if not ok:
        _log(f"outcomes are not what the law says: {outcomes}")
    return {
        "packages": packages,
        "package_s": _median(solo["package"].seconds),
        "packages_per_s": round(package.done / walls["package"], 2),
        "separate_per_s": round(separate.done / walls["separate"], 2),
        "work_ratio": round(work(package) / work(separate), 3),
        **citizen,
        "separate_s": _median(solo["separate"].seconds),
        "package_s_loaded": _median(package.seconds),
        "separate_s_loaded": _median(separate.seconds),
        "work_ms_package": round(work(package) * 1000, 1),
        "work_ms_separate": round(work(separate) * 1000, 1),
        "work_measure": "cpu_client_and_server" if measured else "wall_of_drivers",
        "queries_package": queries["package"],
        "queries_separate": queries["separate"],
        "advance_client_ms_per_package": round(
            package.advance_cpu_s * 1000 / max(package.done + package.failed, 1), 1
        ),
        "server_cpu_share": round(
            (package.server_cpu_s + separate.server_cpu_s)
            / max(
                package.server_cpu_s
                + separate.server_cpu_s
                + package.client_cpu_s
                + separate.client_cpu_s,
                1e-9,
            ),
            2,
        ),
        "packages_failed": package.failed + solo["package"].failed,
        "separate_failed": separate.failed + solo["separate"].failed,
        "failures": (failures + solo["package"].failures + solo["separate"].failures)[
            :MAX_FAILURES_SHOWN
        ],
        "outcomes_ok": ok,
        "outcomes": outcomes,
        "workers": workers,
        "seed": seed,
        "families": len(families),
        "setup_s": round(setup_s, 1),
    }
