"""Test data for dossiers: the shipped catalog, a province's agencies, officials with roles,
citizens as actors, real small PDF and PNG files, valid declarations."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any, Protocol

from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from motcua.catalog.selectors import ProcedureSnapshot, procedure_current
from motcua.catalog.services import Place, catalog_files, catalog_load, province_agencies_ensure
from motcua.catalog.tests.factories import Agency, agency_find, roles_give
from motcua.core.actors import SYSTEM, Actor
from motcua.core.documents import Document, document_pdf
from motcua.dossiers import services
from motcua.dossiers.papers import papers_needed
from motcua.geo.selectors import provinces, wards_of
from motcua.registry.tests.factories import make_citizen

BIRTH = "1.001193"  # Đăng ký khai sinh: civil status, same day
READ_REGISTRY = "registry.view_citizen"


class Person(Protocol):
    pin: str


def catalog_ready() -> None:
    procedures, workflows = catalog_files()
    catalog_load(
        actor=SYSTEM, procedures=procedures["procedures"], workflows=workflows["workflows"]
    )


def agencies_ready(wards: int = 2) -> list[Place]:
    """The first province's agencies and those of its first wards; returns those wards."""
    province = provinces()[0]
    places = [Place(w.key, w.code, w.name) for w in wards_of(province.key)[:wards]]
    province_agencies_ensure(
        actor=SYSTEM, province=Place(province.key, province.code, province.name), wards=places
    )
    return places


def agency_of(kind: str, ward: Place | None = None) -> Agency:
    return agency_find(kind, ward.key if ward else None)


def make_official(username: str, agency: Agency, *roles: str) -> Actor:
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    user.set_password("x-test-password-1")
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_citizen"))
    roles_give(user, agency, *roles)
    user = User.objects.get(pk=user.pk)  # permissions are cached on the instance
    return Actor.from_user(user)


def as_citizen(citizen: Person) -> Actor:
    return Actor(kind="citizen", ref=citizen.pin, pin=citizen.pin)


def pdf_file(name: str = "giay-chung-sinh.pdf") -> SimpleUploadedFile:
    content = document_pdf(
        Document(authority="BỆNH VIỆN", title="GIẤY CHỨNG SINH", reference="", rows=[])
    )
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def png_file(name: str = "anh.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _value(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        # A relation the registry would have to confirm (`x-relation`) is not picked: the
        # people named here are strangers to the applicant.
        free = [choice for choice in prop["enum"] if choice not in prop.get("x-relation", {})]
        return (free or prop["enum"])[0]
    if prop.get("type") == "boolean":
        return False
    if prop.get("type") == "integer":
        return prop.get("minimum", 1)
    if prop.get("format") == "date":
        return "2026-11-02"
    if prop.get("pattern") == "^[0-9]{12}$":
        return "087184100001"
    if prop.get("format") == "email":
        return "nguoi.nop@example.vn"
    return "Thử nghiệm"


def valid_declaration(procedure: ProcedureSnapshot) -> dict[str, Any]:
    """Answers to every field the registry does not fill. A field naming another person by PIN
    (`x-person`) gets a real citizen of the right sex (a mother a woman, a father a man)."""
    return {
        name: _person_pin(name) if prop.get("x-person") else _value(prop)
        for name, prop in procedure.form_schema["properties"].items()
        if "x-prefill" not in prop
    }


def _person_pin(field: str) -> str:
    if field.startswith("cha_"):
        return make_citizen(full_name="Trần Văn Bình", sex="M", birth_date=date(1990, 3, 1)).pin
    return make_citizen(full_name="Lê Thị Hoa", sex="F", birth_date=date(1992, 6, 9)).pin


def uploads_for(procedure: ProcedureSnapshot, pin: str) -> dict[str, SimpleUploadedFile]:
    """One real PDF for each required paper nobody holds for this citizen."""
    return {
        p.component.code: pdf_file(f"{p.component.code}.pdf")
        for p in papers_needed(procedure, pin)
        if p.upload and p.component.required
    }


def submit(
    citizen: Person,
    agency: Agency,
    procedure_code: str = BIRTH,
    *,
    key: str | None = None,
    eid_level: int = 2,
    **changes: Any,
) -> services.Submitted:
    procedure = procedure_current(procedure_code)
    submission = services.Submission(
        procedure_code=procedure_code,
        agency_id=agency.pk,
        declaration=changes.pop("declaration", valid_declaration(procedure)),
        idempotency_key=key or uuid.uuid4().hex,
        files=changes.pop("files", uploads_for(procedure, citizen.pin)),
        **changes,
    )
    return services.dossier_submit(
        actor=as_citizen(citizen), submission=submission, eid_level=eid_level
    )
