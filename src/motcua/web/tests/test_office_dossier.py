"""One dossier in the back office (issue 14): the evidence before the actions, the result the
approval will issue previewed before the approve button, and refusing, rejecting and approving
only through a confirm page that shows what will happen: a post without that page's token for
the same step, version and reason is shown for confirmation, never taken."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from motcua.catalog.tests.factories import Agency
from motcua.core.models import AuditEntry
from motcua.dossiers import services
from motcua.dossiers.tests.factories import (
    agencies_ready,
    agency_of,
    catalog_ready,
    make_official,
    submit,
)
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import official_client

pytestmark = pytest.mark.django_db
Dossier: Any = apps.get_model("dossiers", "Dossier")
DossierEvent: Any = apps.get_model("dossiers", "DossierEvent")


@pytest.fixture
def commune() -> Agency:
    catalog_ready()
    return agency_of("commune", agencies_ready()[0])


def _client(username: str, agency: Agency, *roles: str) -> Client:
    make_official(username, agency, *roles)
    return official_client(User.objects.get(username=username))


def _state(dossier_id: int) -> tuple[str, int, int]:
    dossier = Dossier.objects.get(pk=dossier_id)
    return (
        dossier.status,
        dossier.version,
        AuditEntry.objects.filter(object_id=dossier.code).count(),
    )


def _confirm_form(html: str) -> dict[str, str]:
    form = html[html.index('id="confirm-form"') :]
    fields = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)
    return {name: unescape(value) for name, value in fields}


def _processing(commune: Agency) -> Any:
    done = submit(make_citizen(full_name="Phạm Thị Mẹ", sex="F"), commune)
    receiver = make_official("tiep.nhan", commune, "receiver")
    services.dossier_act(
        actor=receiver, step=services.Step(dossier_id=done.id, action="receive", version=1)
    )
    return done


def step_url(dossier_id: int) -> str:
    return reverse("backoffice:step", args=[dossier_id])


def test_the_approver_sees_the_result_before_approving(commune: Agency) -> None:
    done = _processing(commune)
    approver = _client("chu.tich", commune, "approver")
    html = approver.get(reverse("backoffice:dossier", args=[done.id])).content.decode()
    preview = reverse("backoffice:result_preview", args=[done.id])
    assert f'href="{preview}"' in html
    # The evidence, then the preview, then the approve button.
    assert html.index('id="declaration"') < html.index('id="papers"') < html.index(preview)
    assert html.index(preview) < html.index('id="action-approve"')
    assert "govuk-button" in html[html.index('id="action-approve"') :]

    pdf = approver.get(preview)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"].startswith("inline;")

    # The confirm page of the approval shows the preview again, and only then approves.
    before = _state(done.id)
    shown = approver.post(step_url(done.id), {"action": "approve", "version": before[1]})
    page = shown.content.decode()
    assert shown.status_code == 200 and f'href="{preview}"' in page
    assert _state(done.id) == before
    approved = approver.post(step_url(done.id), _confirm_form(page))
    assert approved.status_code == 302
    assert Dossier.objects.get(pk=done.id).status == "approved"
    assert approver.get(preview).status_code == 404  # nothing left to preview


def test_attack_result_preview_by_an_official_who_does_not_approve_is_refused(
    commune: Agency,
) -> None:
    done = _processing(commune)
    preview = reverse("backoffice:result_preview", args=[done.id])
    receiver = official_client(User.objects.get(username="tiep.nhan"))
    assert receiver.get(preview).status_code == 404
    page = receiver.get(reverse("backoffice:dossier", args=[done.id])).content.decode()
    assert preview not in page
    other = _client("xa.khac", agency_of("commune", agencies_ready()[1]), "approver")
    assert other.get(preview).status_code == 404


def test_a_refusal_is_shown_with_its_reason_and_taken_only_once_confirmed(
    commune: Agency,
) -> None:
    done = submit(make_citizen(), commune)
    desk = _client("mot.cua", commune, "receiver")
    before = _state(done.id)
    reason = "Thiếu giấy chứng sinh <bản gốc> & chữ ký"
    shown = desk.post(step_url(done.id), {"action": "refuse", "version": 1, "note": reason})
    page = shown.content.decode()
    assert shown.status_code == 200 and 'id="confirm-form"' in page
    assert "Bạn có chắc muốn từ chối tiếp nhận?" in page
    assert "Thiếu giấy chứng sinh &lt;bản gốc&gt; &amp; chữ ký" in page  # the reason, escaped
    assert "govuk-button--warning" in page and "Không thể hoàn tác" in page
    assert _state(done.id) == before

    confirmed = desk.post(step_url(done.id), _confirm_form(page))
    assert confirmed.status_code == 302
    dossier = Dossier.objects.get(pk=done.id)
    assert dossier.status == "not_received"
    event_note = (
        DossierEvent.objects.filter(dossier_id=done.id)
        .order_by("-id")
        .values_list("note", flat=True)
        .first()
    )
    assert event_note == reason


def test_attack_forged_refusal_without_the_confirm_token_is_refused(commune: Agency) -> None:
    done = submit(make_citizen(), commune)
    desk = _client("mot.cua", commune, "receiver")
    other_desk = _client("mot.cua.hai", commune, "receiver")
    before = _state(done.id)
    forged = {"action": "refuse", "version": "1", "note": "Không đủ điều kiện"}

    # No token, an invented one, a token cut short: shown for confirmation, nothing done.
    for token in ("", "abc", "x" * 80):
        answer = desk.post(step_url(done.id), {**forged, "confirm": token})
        assert answer.status_code == 200 and 'id="confirm-form"' in answer.content.decode()
        assert _state(done.id) == before

    genuine = _confirm_form(desk.post(step_url(done.id), forged).content.decode())
    # The token of one reason does not carry another reason, nor another version.
    for changed in ({"note": "Lý do khác hẳn"}, {"version": "2"}):
        answer = desk.post(step_url(done.id), {**genuine, **changed})
        assert answer.status_code in (200, 409)
        assert _state(done.id) == before
    done2 = submit(make_citizen(), commune)
    before2 = _state(done2.id)
    genuine2 = _confirm_form(desk.post(step_url(done2.id), forged).content.decode())
    # Another official cannot use it, nor can it refuse another dossier.
    answer = other_desk.post(step_url(done2.id), genuine2)
    assert answer.status_code == 200 and _state(done2.id) == before2
    done3 = submit(make_citizen(), commune)
    before3 = _state(done3.id)
    answer = desk.post(step_url(done3.id), genuine2)
    assert answer.status_code == 200 and _state(done3.id) == before3
    # The genuine confirmation works, once.
    assert desk.post(step_url(done2.id), genuine2).status_code == 302
    assert Dossier.objects.get(pk=done2.id).status == "not_received"
    assert desk.post(step_url(done2.id), genuine2).status_code == 409


def test_attack_forged_approval_without_the_confirm_token_is_refused(commune: Agency) -> None:
    done = _processing(commune)
    approver = _client("chu.tich", commune, "approver")
    before = _state(done.id)
    answer = approver.post(step_url(done.id), {"action": "approve", "version": before[1]})
    assert answer.status_code == 200 and _state(done.id) == before
    answer = approver.post(
        step_url(done.id), {"action": "approve", "version": before[1], "confirm": "forged"}
    )
    assert answer.status_code == 200 and _state(done.id) == before


def test_the_timeline_speaks_in_labels_and_local_dates(commune: Agency) -> None:
    done = _processing(commune)
    page = _client("chu.tich", commune, "approver").get(
        reverse("backoffice:dossier", args=[done.id])
    )
    html = page.content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "Nộp hồ sơ" in timeline and "Tiếp nhận" in timeline
    assert "official:" not in timeline and "citizen:" not in timeline
    assert ">receive<" not in timeline and ">submit<" not in timeline
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", timeline)
    assert 'class="motcua-table-wrap"' in html
