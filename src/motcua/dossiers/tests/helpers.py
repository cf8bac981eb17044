"""Helpers for the dossier tests: a ready province, an agency's desk of officials, what a call
wrote (rows and stored files), taking workflow steps, reading a printout's text."""

from __future__ import annotations

import copy
import io
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from motcua.catalog.selectors import AgencyKind, Role
from motcua.catalog.services import Place, catalog_files, catalog_load
from motcua.catalog.tests.factories import Agency
from motcua.core.actors import SYSTEM, Actor
from motcua.core.calendar import work_calendar
from motcua.core.errors import ValidationFailed
from motcua.core.models import AuditEntry
from motcua.core.uploads import private_storage
from motcua.dossiers.models import Apology, Dossier, DossierEvent, DossierFile, Rating
from motcua.dossiers.services import Step, dossier_act
from motcua.dossiers.tests.factories import (
    agencies_ready,
    agency_of,
    catalog_ready,
    make_official,
)
from motcua.identity.services import account_create
from motcua.identity.tests.factories import PASSWORD, Person, make_person

T = TypeVar("T")

TEMPORARY_RESIDENCE = "1.004194"  # Đăng ký tạm trú: commune police, standard workflow
CMND_CONFIRMATION = "2.001178"  # Xác nhận số CMND: province police, identity fields locked


@dataclass(frozen=True)
class World:
    wards: list[Place]
    commune: Agency  # the first ward's People's Committee (civil status)
    other_commune: Agency  # the second ward's
    police: Agency  # the first ward's police (residence)
    province_police: Agency


def world_ready() -> World:
    """The shipped catalog and the agencies of a province and two of its wards."""
    catalog_ready()
    wards = agencies_ready(wards=2)
    return World(
        wards=wards,
        commune=agency_of(AgencyKind.COMMUNE, wards[0]),
        other_commune=agency_of(AgencyKind.COMMUNE, wards[1]),
        police=agency_of(AgencyKind.COMMUNE_POLICE, wards[0]),
        province_police=agency_of(AgencyKind.PROVINCE_POLICE),
    )


@dataclass(frozen=True)
class Desk:
    """One official per role at an agency."""

    receiver: Actor
    processor: Actor
    approver: Actor
    clerk: Actor


def desk_of(agency: Agency, prefix: str = "canbo") -> Desk:
    return Desk(
        receiver=make_official(f"{prefix}.tiepnhan", agency, Role.RECEIVER),
        processor=make_official(f"{prefix}.xuly", agency, Role.PROCESSOR),
        approver=make_official(f"{prefix}.lanhdao", agency, Role.APPROVER),
        clerk=make_official(f"{prefix}.trakq", agency, Role.CLERK),
    )


def applicant_with_contact(contact: str, *, full_name: str = "Lê Thị Mai") -> Person:
    """A citizen whose e-ID account has a confirmed contact: an e-mail address or a phone."""
    person = make_person(full_name=full_name, with_account=False)
    account_create(actor=SYSTEM, pin=person.pin, password=PASSWORD, contact=contact)
    return person


# --- what a call wrote ---------------------------------------------------------------------------


def use_private_storage(settings: Any, folder: Path) -> None:
    """Send the private storage to a folder of this test's own, so that its files can be counted
    while other test runs write theirs elsewhere."""
    private = {**settings.STORAGES["private"]}
    private["OPTIONS"] = {**private.get("OPTIONS", {}), "location": str(folder)}
    settings.STORAGES = {**settings.STORAGES, "private": private}


def stored_files() -> list[str]:
    root = Path(private_storage().location)  # type: ignore[attr-defined]
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@dataclass(frozen=True)
class Written:
    dossiers: int
    files: int
    events: int
    audit: int
    apologies: int
    ratings: int
    stored: int


def written() -> Written:
    return Written(
        dossiers=Dossier.objects.count(),
        files=DossierFile.objects.count(),
        events=DossierEvent.objects.count(),
        audit=AuditEntry.objects.count(),
        apologies=Apology.objects.count(),
        ratings=Rating.objects.count(),
        stored=len(stored_files()),
    )


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = written()
    yield
    assert written() == before


@contextmanager
def refused(field: str, message: str = "") -> Iterator[None]:
    """The block must fail on `field` (with `message` in its text) and write nothing."""
    before = written()
    with pytest.raises(ValidationFailed) as caught:
        yield
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]
    assert written() == before


def html_named_pdf(name: str = "giay-chung-sinh.pdf") -> SimpleUploadedFile:
    """A web page with a PDF's name and content type."""
    page = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    return SimpleUploadedFile(name, page, content_type="application/pdf")


# --- the workflow --------------------------------------------------------------------------------


def reload(dossier_id: int) -> Dossier:
    return Dossier.objects.get(pk=dossier_id)


def act(actor: Actor, dossier_id: int, action: str, **step: Any) -> Dossier:
    """Take a step on the dossier as it stands now (its current version)."""
    version = reload(dossier_id).version
    return dossier_act(
        actor=actor, step=Step(dossier_id=dossier_id, action=action, version=version, **step)
    )


def actions_of(dossier_id: int) -> list[str]:
    return list(DossierEvent.objects.filter(dossier_id=dossier_id).values_list("action", flat=True))


def audit_actions_of(code: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="dossiers.dossier", object_id=code)
        .order_by("id")
        .values_list("action", flat=True)
    )


def race(*calls: Callable[[], T]) -> list[T | Exception]:
    """Run the calls at the same moment, each in a thread with its own database connection
    (closed when it is done); each call's result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        try:
            barrier.wait(timeout=30)
            return call()
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=120) for future in futures]


# --- the catalog ---------------------------------------------------------------------------------


def catalog_edited(code: str, **changes: Any) -> None:
    """Load the shipped catalog again with one procedure's fields changed (a new version)."""
    procedures, workflows = catalog_files()
    edited = copy.deepcopy(procedures["procedures"])
    for procedure in edited:
        if procedure["code"] == code:
            procedure.update(changes)
    catalog_load(actor=SYSTEM, procedures=edited, workflows=workflows["workflows"])


# --- dates --------------------------------------------------------------------------------------


def working_days_before(day: date, count: int) -> date:
    """The latest date with exactly `count` working days after it up to `day` inclusive."""
    calendar = work_calendar()
    earlier = day
    while calendar.working_days_between(earlier, day) < count:
        earlier -= timedelta(days=1)
    return earlier


def next_day_off(after: date) -> date:
    calendar = work_calendar()
    day = after + timedelta(days=1)
    while calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def make_overdue(dossier_id: int) -> date:
    """Move the appointment to a past working day, as if the days had gone by."""
    past = working_days_before(timezone.localdate(), 3)
    past = work_calendar().next_working_day(past)
    assert past < timezone.localdate()
    Dossier.objects.filter(pk=dossier_id).update(due_on=past)
    return past


# --- time and printouts -------------------------------------------------------------------------


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Django's clock (timezone.now, and so localdate) reads `moment`."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
