"""The back office through its pages: officials sign in, open their agency's queue (filters,
pagination, a constant number of queries), work a dossier step by step, meet the refusals
(another agency, the wrong role, a stale page, an overdue dossier without its apology) and
download its papers; every opening of a dossier is in the citizen's access log."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape as html_unescape
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from motcua.catalog.tests.factories import Agency, agencies, agency_find
from motcua.core.actors import Actor
from motcua.core.calendar import work_calendar
from motcua.core.models import AccessLog, AuditEntry
from motcua.dossiers import services
from motcua.dossiers.tests.factories import (
    BIRTH,
    agencies_ready,
    agency_of,
    catalog_ready,
    make_official,
    submit,
)
from motcua.registry.tests.factories import make_citizen
from motcua.web.tests.staff import authenticator, official_client, sign_in

pytestmark = pytest.mark.django_db
PASSWORD = "x-test-password-1"  # what make_official sets
EXTRACT = "2.000635"  # Cấp bản sao trích lục hộ tịch: another procedure of the commune
ABSENCE = "1.003677"  # Khai báo tạm vắng: commune police, the standard one-stop workflow

# The dossiers app keeps its tables to itself (import-linter): the tests reach them by name.
Dossier: Any = apps.get_model("dossiers", "Dossier")
DossierEvent: Any = apps.get_model("dossiers", "DossierEvent")


@pytest.fixture
def commune() -> Agency:
    catalog_ready()
    wards = agencies_ready()
    return agency_of("commune", wards[0])


@pytest.fixture
def other_commune(commune: Agency) -> Agency:
    return next(a for a in agencies("commune") if a.pk != commune.pk)


def signed_in(username: str, agency: Agency, *roles: str) -> Client:
    """A client signed in as the official (make_official resets the password, which signs out
    any earlier session: give all the roles before signing in)."""
    make_official(username, agency, *roles)
    return official_client(User.objects.get(username=username))


def dossier_url(dossier_id: int) -> str:
    return reverse("backoffice:dossier", args=[dossier_id])


def step_url(dossier_id: int) -> str:
    return reverse("backoffice:step", args=[dossier_id])


def offered(client: Client, dossier_id: int) -> dict[str, int]:
    """The actions the dossier page offers this official, with the version each form carries."""
    html = client.get(dossier_url(dossier_id)).content.decode()
    forms = re.findall(
        r'name="action" value="(\w+)">\s*<input type="hidden" name="version" value="(\d+)"', html
    )
    return {action: int(version) for action, version in forms}


def state(dossier_id: int) -> tuple[str, int, int, int]:
    """Status, version, timeline length and audit rows of a dossier: all that a step changes."""
    dossier = Dossier.objects.get(pk=dossier_id)
    return (
        dossier.status,
        dossier.version,
        DossierEvent.objects.filter(dossier_id=dossier_id).count(),
        AuditEntry.objects.filter(object_id=dossier.code).count(),
    )


def confirmed_step(html: str) -> dict[str, str]:
    """What the confirm page's form posts: the step again, with its confirm token."""
    form = html[html.index('id="confirm-form"') :]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form)) | {
        "note": html_unescape(re.search(r'name="note" value="([^"]*)"', form).group(1))  # type: ignore[union-attr]
    }


def make_overdue(dossier_id: int) -> None:
    Dossier.objects.filter(pk=dossier_id).update(due_on=timezone.localdate() - timedelta(days=5))


# --- signing in ---------------------------------------------------------------------------------


def test_an_official_signs_in_and_lands_on_what_waits_for_them(commune: Agency) -> None:
    make_official("hotich.an", commune, "receiver")
    authenticator(User.objects.get(username="hotich.an"))
    client = Client()
    page = client.get(reverse("backoffice:queue", args=[commune.pk]))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("backoffice:login") + "?next=")

    # The password alone signs nobody in: it leads to the code of the authenticator.
    first = client.post(
        reverse("backoffice:login"), {"username": "hotich.an", "password": PASSWORD}
    )
    assert first["Location"] == reverse("backoffice:login_code")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("backoffice:start")).status_code == 302
    step = client.get(reverse("backoffice:login_code")).content.decode()
    assert 'autocomplete="one-time-code"' in step and 'inputmode="numeric"' in step
    assert "govuk-input" in step and "Nhập mã xác thực" in step

    signed = sign_in(client, "hotich.an", PASSWORD)
    assert signed.status_code == 302
    assert signed["Location"] == reverse("backoffice:start")
    queue = client.get(signed["Location"]).content.decode()
    assert "Chờ tôi xử lý" in queue
    assert reverse("backoffice:queue", args=[commune.pk]) in queue  # the agency's queue

    assert client.get(reverse("backoffice:logout")).status_code == 405  # POST only
    client.post(reverse("backoffice:logout"))
    assert client.get(reverse("backoffice:start")).status_code == 302


def test_a_user_who_is_not_staff_is_refused(commune: Agency) -> None:
    User.objects.create_user("nguoi.dan", password=PASSWORD)
    client = Client()
    refused = client.post(
        reverse("backoffice:login"), {"username": "nguoi.dan", "password": PASSWORD}
    )
    assert refused.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in refused.content.decode()
    assert "govuk-error-summary" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    client.force_login(User.objects.get(username="nguoi.dan"))  # signed in elsewhere
    assert client.get(reverse("backoffice:start")).status_code == 302


def test_a_staff_user_without_any_role_is_told_so(commune: Agency) -> None:
    user = User.objects.create_user("moi.vao", password=PASSWORD, is_staff=True)
    page = official_client(user).get(reverse("backoffice:start"))
    assert page.status_code == 403
    assert "chưa có vai trò ở cơ quan nào" in page.content.decode()


def test_an_official_of_two_agencies_sees_both_queues(
    commune: Agency, other_commune: Agency
) -> None:
    make_official("hai.noi", other_commune, "approver")
    client = signed_in("hai.noi", commune, "receiver")
    page = client.get(reverse("backoffice:start"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("backoffice:queue", args=[commune.pk]) in html
    assert reverse("backoffice:queue", args=[other_commune.pk]) in html


# --- the queue ----------------------------------------------------------------------------------


def test_the_queue_shows_the_agencys_dossiers_and_its_filters_work(
    commune: Agency, other_commune: Agency
) -> None:
    citizen = make_citizen(full_name="Trần Thị Bình")
    births = [submit(citizen, commune) for _ in range(3)]
    extract = submit(citizen, commune, EXTRACT)
    elsewhere = submit(make_citizen(full_name="Lê Văn Khác"), other_commune)
    make_overdue(births[1].id)
    client = signed_in("hotich.an", commune, "receiver")
    url = reverse("backoffice:queue", args=[commune.pk])

    def codes(**params: Any) -> list[str]:
        page = client.get(url, params)
        assert page.status_code == 200
        return re.findall(
            r'<td class="govuk-table__cell motcua-nowrap"><a class="govuk-link" href="[^"]+">'
            r"([^<]+)</a></td>",
            page.content.decode(),
        )

    everything = codes()
    assert set(everything) == {b.code for b in births} | {extract.code}
    assert elsewhere.code not in everything
    assert everything[0] == births[1].code  # the overdue one first: most urgent
    page = client.get(url).content.decode()
    assert "govuk-tag--red" in page and "Quá hạn" in page and "Trần Thị Bình" in page
    assert re.search(r'id="total"><strong>4</strong>', page)

    assert codes(overdue="on") == [births[1].code]
    assert set(codes(procedure=EXTRACT)) == {extract.code}
    assert set(codes(procedure=BIRTH)) == {b.code for b in births}
    assert codes(q=births[2].code) == [births[2].code]
    assert set(codes(q=citizen.pin)) == set(everything)
    assert set(codes(status="submitted")) == set(everything)
    assert codes(status="processing") == []

    receiver = Actor.from_user(User.objects.get(username="hotich.an"))
    services.dossier_act(
        actor=receiver, step=services.Step(dossier_id=births[0].id, action="receive", version=1)
    )
    assert codes(status="processing") == [births[0].code]
    assert set(codes(status="bogus")) == set(everything)  # a bad value is dropped


def _many(dossier_id: int, count: int) -> None:
    """Copies of a submitted dossier, straight into the table: the queue only reads rows."""
    row = Dossier.objects.filter(pk=dossier_id).values().get()
    del row["id"]
    prefix = row["code"].rsplit("-", 1)[0]
    Dossier.objects.bulk_create(
        Dossier(**{**row, "code": f"{prefix}-{n + 5000:04d}", "idempotency_key": f"copy-{n:06d}"})
        for n in range(count)
    )


def test_the_queue_takes_a_constant_number_of_queries_whatever_the_page_size(
    commune: Agency, django_assert_max_num_queries: Any
) -> None:
    first = submit(make_citizen(), commune)
    _many(first.id, 119)
    client = signed_in("hotich.an", commune, "receiver")
    url = reverse("backoffice:queue", args=[commune.pk])
    client.get(url)  # warm the caches every page shares (the calendar, the procedures' names)
    counts = []
    for size in (20, 100):
        with django_assert_max_num_queries(15) as queries:
            page = client.get(url, {"size": str(size), "procedure": BIRTH})
        html = page.content.decode()
        assert len(re.findall(r'href="/can-bo/ho-so/\d+/"', html)) == size
        assert re.search(r'id="total"><strong>120</strong>', html)
        counts.append(len(queries))
    assert counts[0] == counts[1]

    second = client.get(url, {"size": "50", "page": "3", "procedure": BIRTH}).content.decode()
    assert len(re.findall(r'href="/can-bo/ho-so/\d+/"', second)) == 20
    assert "page=2" in second and "procedure=" + BIRTH in second  # the links keep the filters
    assert 'rel="next"' not in second


def test_another_agencys_official_sees_neither_its_queue_nor_its_dossiers(
    commune: Agency, other_commune: Agency
) -> None:
    done = submit(make_citizen(), commune)
    before = state(done.id)
    client = signed_in("xa.ben", other_commune, "receiver", "approver", "clerk")
    assert client.get(reverse("backoffice:queue", args=[commune.pk])).status_code == 404
    assert client.get(dossier_url(done.id)).status_code == 404
    assert client.post(step_url(done.id), {"action": "receive", "version": 1}).status_code == 404
    paper = reverse("backoffice:paper", args=[done.id, "bien-nhan"])
    assert client.get(paper).status_code == 404
    assert state(done.id) == before


# --- one dossier --------------------------------------------------------------------------------


def test_a_birth_dossier_goes_all_the_way_through_the_pages(commune: Agency) -> None:
    citizen = make_citizen(full_name="Phạm Thị Mẹ", sex="F")
    done = submit(citizen, commune)
    client = signed_in("hotich.an", commune, "receiver", "approver", "clerk")

    page = client.get(dossier_url(done.id))
    html = page.content.decode()
    assert page.status_code == 200
    assert done.code in html and "Đăng ký khai sinh" in html
    assert "national code" not in html and "Mới đăng ký" in html
    assert "Họ, chữ đệm và tên của trẻ" in html  # the declaration under the form's titles
    assert "Nhà nước đã có" in html
    assert "giay_chung_sinh.pdf" in html  # the uploaded paper, with its link
    assert citizen.pin in html and "Phạm Thị Mẹ" in html and "nhật ký truy cập" in html
    # the evidence (declaration, papers, the registry's record) comes before the actions
    assert html.index('id="declaration"') < html.index('id="papers"') < html.index('id="actions"')
    assert html.index('id="applicant"') < html.index('id="actions"')
    file_link = re.search(r'href="(/can-bo/ho-so/\d+/tep/\d+/)"', html)
    assert file_link is not None
    downloaded = client.get(file_link.group(1))
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]

    for action in ("receive", "approve", "issue_result", "return_result"):
        actions = offered(client, done.id)
        assert action in actions, (action, actions)
        answer = client.post(step_url(done.id), {"action": action, "version": actions[action]})
        if action == "approve":  # confirmed first, on a page of its own
            assert answer.status_code == 200 and 'id="confirm-form"' in answer.content.decode()
            answer = client.post(step_url(done.id), confirmed_step(answer.content.decode()))
        assert answer.status_code in (302, 303), answer.content.decode()[:2000]
        assert answer["Location"] == dossier_url(done.id)
        followed = client.get(answer["Location"]).content.decode()
        assert "Đã cập nhật hồ sơ" in followed

    dossier = Dossier.objects.get(pk=done.id)
    assert dossier.status == "returned"
    assert offered(client, done.id) == {}
    result = client.get(reverse("backoffice:paper", args=[done.id, "ket-qua"]))
    assert result.status_code == 200
    assert result.content.startswith(b"%PDF-")
    assert result["Content-Disposition"].startswith("attachment;")
    receipt = client.get(reverse("backoffice:paper", args=[done.id, "bien-nhan"]))
    assert receipt.content.startswith(b"%PDF-")
    timeline = client.get(dossier_url(done.id)).content.decode()
    timeline = timeline[timeline.index('id="timeline"') :]
    assert "official:hotich.an" not in timeline and "return_result" not in timeline
    for step in ("Nộp hồ sơ", "Tiếp nhận", "Phê duyệt", "Ban hành kết quả", "Trả kết quả"):
        assert step in timeline
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", timeline)  # local dates, dd/mm/yyyy


def test_the_wrong_role_is_refused_with_403_and_nothing_changes(commune: Agency) -> None:
    done = submit(make_citizen(), commune)
    before = state(done.id)
    client = signed_in("xu.ly", commune, "processor")
    assert offered(client, done.id) == {}  # the page offers nothing to a processor here
    answer = client.post(step_url(done.id), {"action": "receive", "version": before[1]})
    assert answer.status_code == 403
    assert "Vai trò của bạn không được" in answer.content.decode()
    assert state(done.id) == before


def test_a_refused_note_shows_beside_the_form_with_422(commune: Agency) -> None:
    done = submit(make_citizen(), commune)
    before = state(done.id)
    client = signed_in("hotich.an", commune, "receiver")
    answer = client.post(step_url(done.id), {"action": "refuse", "version": 1, "note": ""})
    assert answer.status_code == 422
    assert "Cần nêu rõ lý do hoặc nội dung" in answer.content.decode()
    assert 'href="#note-refuse"' in answer.content.decode()  # the summary links to the field
    shown = client.post(step_url(done.id), {"action": "refuse", "version": 1, "note": "x"})
    answer = client.post(step_url(done.id), confirmed_step(shown.content.decode()))
    assert answer.status_code == 422
    assert "Cần nêu rõ lý do hoặc nội dung" in answer.content.decode()
    assert state(done.id) == before
    malformed = client.post(step_url(done.id), {"action": "receive", "version": "abc"})
    assert malformed.status_code == 422
    assert state(done.id) == before


def test_the_second_of_two_officials_on_the_same_page_gets_a_conflict(commune: Agency) -> None:
    done = submit(make_citizen(), commune)
    first = signed_in("mot.cua.a", commune, "receiver")
    second = signed_in("mot.cua.b", commune, "receiver")
    seen_by_first = offered(first, done.id)
    seen_by_second = offered(second, done.id)
    assert seen_by_first["receive"] == seen_by_second["receive"]

    assert (
        first.post(
            step_url(done.id), {"action": "receive", "version": seen_by_first["receive"]}
        ).status_code
        == 302
    )
    after_first = state(done.id)
    answer = second.post(  # no longer a step from this status: refused before any confirmation
        step_url(done.id),
        {"action": "refuse", "version": seen_by_second["refuse"], "note": "Thiếu giấy tờ gốc"},
    )
    assert answer.status_code == 409
    assert "hãy tải lại trang" in answer.content.decode()
    assert state(done.id) == after_first
    assert after_first[0] == "processing"


def test_opening_a_dossier_is_in_the_applicants_access_log(commune: Agency) -> None:
    citizen = make_citizen()
    done = submit(citizen, commune)
    mark = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    client = signed_in("hotich.an", commune, "receiver")
    assert client.get(dossier_url(done.id)).status_code == 200
    logged = set(
        AccessLog.objects.filter(
            pk__gt=mark, subject_pin=citizen.pin, actor="official:hotich.an"
        ).values_list("data", flat=True)
    )
    assert {"registry.citizen", "dossiers.dossier"} <= logged


def test_an_overdue_dossier_needs_the_apology_before_it_moves_on(commune: Agency) -> None:
    done = submit(make_citizen(), commune)
    make_overdue(done.id)
    client = signed_in("hotich.an", commune, "receiver")
    page = client.get(dossier_url(done.id)).content.decode()
    assert "Quá hạn" in page and 'id="apology-form"' in page
    assert offered(client, done.id) == {}

    before = state(done.id)
    refused = client.post(step_url(done.id), {"action": "receive", "version": before[1]})
    assert refused.status_code == 409
    assert "cần lập phiếu xin lỗi" in refused.content.decode()
    assert state(done.id) == before

    new_due = work_calendar().add_working_days(timezone.localdate(), 2)
    apology_url = reverse("backoffice:apology", args=[done.id])
    too_short = client.post(
        apology_url, {"version": before[1], "reason": "Trễ", "new_due": new_due.isoformat()}
    )
    assert too_short.status_code == 422
    assert "Nêu rõ lý do chậm trễ" in too_short.content.decode()
    answer = client.post(
        apology_url,
        {
            "version": before[1],
            "reason": "Hệ thống cơ sở dữ liệu hộ tịch gián đoạn",
            "new_due": new_due.isoformat(),
        },
    )
    assert answer.status_code == 302
    html = client.get(dossier_url(done.id)).content.decode()
    assert "Đã lập phiếu xin lỗi" in html
    link = re.search(r'href="(/can-bo/ho-so/\d+/xin-loi/\d+\.pdf)"', html)
    assert link is not None
    slip = client.get(link.group(1))
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF-")
    assert slip["Content-Disposition"].startswith("attachment;")

    actions = offered(client, done.id)
    assert (
        client.post(
            step_url(done.id), {"action": "receive", "version": actions["receive"]}
        ).status_code
        == 302
    )
    dossier = Dossier.objects.get(pk=done.id)
    assert dossier.status == "processing" and dossier.late and dossier.due_on == new_due


def test_the_one_stop_desk_assigns_a_processing_officer_from_the_page(commune: Agency) -> None:
    police = agency_find("commune_police", commune.unit_code)
    done = submit(make_citizen(), police, ABSENCE)
    make_official("dieu.tra.vien", police, "processor")
    make_official("khac.xa", commune, "processor")  # another agency's processor is not offered
    desk = signed_in("mot.cua", police, "receiver")
    version = offered(desk, done.id)["receive"]
    assert (
        desk.post(step_url(done.id), {"action": "receive", "version": version}).status_code == 302
    )

    page = desk.get(dossier_url(done.id)).content.decode()
    assert 'value="dieu.tra.vien"' in page and "khac.xa" not in page
    version = offered(desk, done.id)["assign"]
    nobody = desk.post(step_url(done.id), {"action": "assign", "version": version})
    assert nobody.status_code == 422
    assert "Chọn một cán bộ xử lý của cơ quan" in nobody.content.decode()
    assigned = desk.post(
        step_url(done.id), {"action": "assign", "version": version, "assignee": "dieu.tra.vien"}
    )
    assert assigned.status_code == 302
    assert Dossier.objects.get(pk=done.id).assignee == "dieu.tra.vien"

    processor = signed_in("dieu.tra.vien", police, "processor")
    version = offered(processor, done.id)["start"]
    started = processor.post(step_url(done.id), {"action": "start", "version": version})
    assert started.status_code == 302
    assert Dossier.objects.get(pk=done.id).status == "processing"
