"""The exchange API as a partner portal uses it for a signed-in citizen: filing a dossier once
whatever the retries, reading its status with the national code, its timeline and appointment,
supplementing it; never another person's dossier; every call in the citizen's access log."""

from __future__ import annotations

import json

import pytest

from motcua.catalog.selectors import procedure_current
from motcua.core.models import AccessLog, AuditEntry
from motcua.dossiers.selectors import DossierDetail, dossier_detail, dossier_id_by_code, dossiers_of
from motcua.dossiers.tests.factories import (
    BIRTH,
    as_citizen,
    pdf_file,
    submit,
    uploads_for,
    valid_declaration,
)
from motcua.dossiers.tests.helpers import World, act, desk_of
from motcua.exchange.models import Filing
from motcua.exchange.tests.helpers import (
    Caller,
    Portal,
    access_token,
    id_token_for,
    new_key,
)
from motcua.identity.tests.factories import Person, make_person

pytestmark = pytest.mark.django_db


def _caller(person: Person, portal: Portal, level: int = 2) -> Caller:
    return Caller(access_token(portal.client_id), id_token_for(person, portal, level=level))


def _detail(person: Person, code: str) -> DossierDetail:
    citizen = as_citizen(person)
    return dossier_detail(actor=citizen, dossier_id=dossier_id_by_code(actor=citizen, code=code))


def _none_filed(person: Person) -> bool:
    return dossiers_of(actor=as_citizen(person)) == []


def _birth_form(world: World, person: Person) -> dict[str, object]:
    procedure = procedure_current(BIRTH)
    form: dict[str, object] = {
        "procedure_code": BIRTH,
        "agency_id": world.commune.pk,
        "declaration": json.dumps(valid_declaration(procedure)),
    }
    for code, upload in uploads_for(procedure, person.pin).items():
        form[f"file_{code}"] = upload
    return form


def test_a_partner_files_a_birth_registration_for_the_signed_in_citizen(
    world: World, portal: Portal, mother: Person
) -> None:
    caller = _caller(mother, portal)
    response = caller.post("/dossiers", _birth_form(world, mother), key=new_key())

    assert response.status_code == 201, response.content
    body = response.json()
    dossier = _detail(mother, body["code"]).row  # found as the mother's own
    assert body["created"] is True
    assert body["appointment"] == dossier.due_on.isoformat()
    assert Filing.objects.filter(code=dossier.code, partner_id=portal.id).exists()
    partner_rows = AccessLog.objects.filter(subject_pin=mother.pin, actor=f"partner:{portal.name}")
    assert partner_rows.filter(purpose__contains=dossier.code).exists()
    assert AuditEntry.objects.filter(
        action="exchange.dossier_filed", object_id=dossier.code, actor=f"partner:{portal.name}"
    ).exists()


def test_the_same_idempotency_key_twice_files_one_dossier(
    world: World, portal: Portal, mother: Person
) -> None:
    caller = _caller(mother, portal)
    key = new_key()
    first = caller.post("/dossiers", _birth_form(world, mother), key=key)
    again = caller.post("/dossiers", _birth_form(world, mother), key=key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["code"] == again.json()["code"] and again.json()["created"] is False
    assert len(dossiers_of(actor=as_citizen(mother))) == 1
    assert Filing.objects.count() == 1


def test_a_submission_without_an_idempotency_key_is_refused(
    world: World, portal: Portal, mother: Person
) -> None:
    response = _caller(mother, portal).post("/dossiers", _birth_form(world, mother))

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert _none_filed(mother)


def test_a_web_page_named_pdf_is_refused_by_the_upload_checks(
    world: World, portal: Portal, mother: Person
) -> None:
    form = _birth_form(world, mother)
    file_fields = [name for name in form if name.startswith("file_")]
    assert file_fields
    form[file_fields[0]] = _html_as_pdf()
    response = _caller(mother, portal).post("/dossiers", form, key=new_key())

    assert response.status_code == 422, response.content
    assert file_fields[0] in response.json()["errors"]
    assert _none_filed(mother)


def _html_as_pdf() -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "giay.pdf", b"<!doctype html><script>alert(1)</script>", content_type="application/pdf"
    )


def test_a_level_1_sign_in_cannot_file_a_level_2_procedure(
    world: World, portal: Portal, mother: Person
) -> None:
    caller = _caller(mother, portal, level=1)
    response = caller.post("/dossiers", _birth_form(world, mother), key=new_key())

    assert response.status_code == 403
    assert response.json()["code"] == "eid_level_too_low"
    assert _none_filed(mother)


def test_the_status_timeline_and_appointment_carry_the_national_codes(
    world: World, portal: Portal, mother: Person
) -> None:
    caller = _caller(mother, portal)
    code = caller.post("/dossiers", _birth_form(world, mother), key=new_key()).json()["code"]
    dossier = _detail(mother, code).row
    act(desk_of(world.commune).receiver, dossier.id, "receive")

    body = caller.get(f"/dossiers/{code}").json()
    assert (body["status"], body["national_status_code"]) == ("processing", 4)
    assert body["status_label"] == "Đang xử lý"
    assert body["appointment"] == dossier.due_on.isoformat()
    assert [(t["action"], t["national_status_code"]) for t in body["timeline"]] == [
        ("submit", 1),
        ("receive", 4),
    ]
    assert {t["by"] for t in body["timeline"]} == {"citizen", "official"}
    listed = caller.get("/dossiers").json()
    assert [(d["code"], d["national_status_code"]) for d in listed] == [(code, 4)]
    assert (
        AccessLog.objects.filter(
            subject_pin=mother.pin, actor=f"partner:{portal.name}", purpose__contains="Xem"
        ).count()
        == 2
    )


def test_another_citizens_dossier_is_not_found(
    world: World, portal: Portal, mother: Person
) -> None:
    neighbour = make_person(level=2, full_name="Phạm Thị Lan")
    theirs = submit(neighbour, world.commune)
    caller = _caller(mother, portal)

    for response in (
        caller.get(f"/dossiers/{theirs.code}"),
        caller.post(f"/dossiers/{theirs.code}/supplement", {"file_giay_chung_sinh": pdf_file()}),
    ):
        assert response.status_code == 404
        assert theirs.code not in response.content.decode()
        assert neighbour.pin not in response.content.decode()
    assert response.json() == {
        "code": "not_found",
        "detail": caller.get("/dossiers/KHONG-CO-0000").json()["detail"],
        "errors": {},
    }
    assert caller.get("/dossiers").json() == []


def test_a_supplement_brings_the_paper_asked_for(
    world: World, portal: Portal, mother: Person
) -> None:
    caller = _caller(mother, portal)
    code = caller.post("/dossiers", _birth_form(world, mother), key=new_key()).json()["code"]
    dossier = _detail(mother, code).row
    desk = desk_of(world.commune)
    act(desk.receiver, dossier.id, "receive")
    act(desk.receiver, dossier.id, "request_supplement", note="Ảnh chụp giấy chứng sinh bị mờ")

    response = caller.post(
        f"/dossiers/{code}/supplement",
        {"file_giay_chung_sinh": pdf_file("ro-net.pdf"), "note": "Bản rõ nét"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["timeline"][-1]["action"] == "supplement"
    assert [f.purpose for f in _detail(mother, code).files].count("supplement") == 1
    assert AccessLog.objects.filter(
        subject_pin=mother.pin, actor=f"partner:{portal.name}", purpose__contains="Bổ sung"
    ).exists()


def test_a_file_under_a_field_name_without_a_component_is_refused(
    world: World, portal: Portal, mother: Person
) -> None:
    form = _birth_form(world, mother)
    form["giay_chung_sinh"] = pdf_file()
    response = _caller(mother, portal).post("/dossiers", form, key=new_key())

    assert response.status_code == 422
    assert "giay_chung_sinh" in response.json()["errors"]
    assert _none_filed(mother)


def test_the_exchange_is_in_the_openapi_with_its_headers(client: object) -> None:
    from django.test import Client

    schema = Client().get("/api/openapi.json").json()
    post = schema["paths"]["/api/exchange/dossiers"]["post"]
    names = {p["name"] for p in post["parameters"]}
    assert {"Idempotency-Key", "X-Citizen-Id-Token"} <= names
    assert "/api/exchange/dossiers/{code}" in schema["paths"]
