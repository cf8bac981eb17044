"""The portal's forms that forgive: every mistake shown at once, the file kept across a re-shown
form (held server-side under a token only this session can claim, for an hour), the
check-your-answers step, filing once whatever is sent twice, the confirmation; withdrawal asks
first; the dossier lookup by receipt code and PIN without signing in."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from motcua.core import held
from motcua.core.actors import Actor
from motcua.core.uploads import upload_check
from motcua.dossiers import selectors as dossiers
from motcua.dossiers.tests.factories import BIRTH, pdf_file
from motcua.dossiers.tests.helpers import World, world_ready
from motcua.registry.services import ResidenceMove, residence_move
from motcua.registry.tests.factories import OFFICIAL, make_citizen
from motcua.web.portal import SESSION_KEY

pytestmark = pytest.mark.django_db
LEVEL_2 = "urn:motcua:loa:2"
FORM = f"/thu-tuc/{BIRTH}/nop/"
CHECK = f"/thu-tuc/{BIRTH}/nop/kiem-tra/"


@pytest.fixture
def world(db: None) -> World:
    return world_ready()


@pytest.fixture
def mother(world: World) -> Any:
    person = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))
    residence_move(
        actor=OFFICIAL,
        pin=person.pin,
        move=ResidenceMove(
            kind="permanent",
            since=date(2019, 1, 1),
            ward=world.wards[0].key,
            address="Số 12 đường Trần Phú",
        ),
    )
    return person


def signed_in(pin: str) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = {
        "sub": f"s-{pin}",
        "pin": pin,
        "name": "",
        "acr": LEVEL_2,
        "id_token": "",
    }
    session.save()
    return client


def birth(mother: Any, world: World, **changes: Any) -> dict[str, Any]:
    """The birth form as a browser sends it: the date in three boxes, the certificate."""
    born = timezone.localdate() - timedelta(days=3)
    data: dict[str, Any] = {
        "idempotency_key": uuid.uuid4().hex,
        "agency_id": str(world.commune.pk),
        "ho_ten_tre": "Nguyễn Minh Khôi",
        "gioi_tinh": "M",
        "ngay_sinh_0": str(born.day),
        "ngay_sinh_1": str(born.month),
        "ngay_sinh_2": str(born.year),
        "noi_sinh": "Bệnh viện Phụ sản tỉnh",
        "dan_toc": "Kinh",
        "que_quan": "Đồng Tháp",
        "me_pin": mother.pin,
        "quan_he_nguoi_yeu_cau": "me",
        "file_giay_chung_sinh": pdf_file(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def filed(pin: str) -> list[dossiers.DossierRow]:
    return dossiers.dossiers_of(actor=Actor(kind="citizen", ref=pin, pin=pin))


def held_token(page: str) -> str:
    found = re.search(r'name="held_file_giay_chung_sinh" value="([^"]+)"', page)
    assert found, "the re-shown form carries no token for the file already received"
    return found.group(1)


def summary_links(page: str) -> set[str]:
    summary = page[
        page.index("govuk-error-summary") : page.index("</ul>", page.index("govuk-error-summary"))
    ]
    return set(re.findall(r'href="#([^"]+)"', summary))


def test_every_mistake_is_shown_at_once_and_the_file_is_kept(world: World, mother: Any) -> None:
    client = signed_in(mother.pin)
    next_year = timezone.localdate().year + 1
    page = client.post(
        FORM,
        birth(
            mother,
            world,
            ho_ten_tre="",
            gioi_tinh="",
            ngay_sinh_2=str(next_year),
            me_pin="12345",
            quan_he_nguoi_yeu_cau="",
            noi_sinh="",
        ),
    )

    text = page.content.decode()
    assert page.status_code == 422
    assert 'data-module="govuk-error-summary"' in text
    assert summary_links(text) >= {
        "id_ho_ten_tre",
        "id_gioi_tinh",
        "id_ngay_sinh_0",
        "id_me_pin",
        "id_quan_he_nguoi_yeu_cau",
        "id_noi_sinh",
    }
    assert "Ngày không được ở tương lai" in text
    assert "Đã nhận tệp giay-chung-sinh.pdf — chọn tệp khác nếu muốn thay" in text
    assert 'inputmode="numeric"' in text  # the PINs and the date boxes
    token = held_token(text)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', text)
    assert key

    # Corrected without choosing the file again: on to the check-your-answers page.
    again = birth(mother, world, file_giay_chung_sinh=None, idempotency_key=key.group(1))
    answer = client.post(FORM, {**again, "held_file_giay_chung_sinh": token})
    assert answer.status_code == 302
    assert answer["Location"] == f"{CHECK}?nhap={key.group(1)}"
    assert filed(mother.pin) == []  # nothing filed before the citizen confirms

    check = client.get(answer["Location"]).content.decode()
    assert "govuk-summary-list" in check
    assert "Nguyễn Minh Khôi" in check and "Nam" in check and "Mẹ" in check
    assert world.commune.name in check
    assert "giay-chung-sinh.pdf" in check
    assert f'href="{FORM}?nhap={key.group(1)}#id_ho_ten_tre"' in check  # "Thay đổi"
    born = timezone.localdate() - timedelta(days=3)
    assert born.strftime("%d/%m/%Y") in check

    # "Thay đổi" shows the form again with everything kept, the file included.
    change = client.get(f"{FORM}?nhap={key.group(1)}").content.decode()
    assert 'value="Nguyễn Minh Khôi"' in change
    assert "Đã nhận tệp giay-chung-sinh.pdf" in change

    done = client.post(CHECK, {"nhap": key.group(1)})
    rows = filed(mother.pin)
    assert len(rows) == 1
    assert done["Location"] == f"/ho-so/{rows[0].id}/da-nop/"
    confirmation = client.get(done["Location"]).content.decode()
    assert "govuk-panel--confirmation" in confirmation
    assert rows[0].code in confirmation
    assert rows[0].due_on.strftime("%d/%m/%Y") in confirmation
    assert "Điều gì xảy ra tiếp theo" in confirmation


def test_back_and_submit_again_files_one_dossier(world: World, mother: Any) -> None:
    client = signed_in(mother.pin)
    key = uuid.uuid4().hex
    client.post(FORM, birth(mother, world, idempotency_key=key))
    first = client.post(CHECK, {"nhap": key})
    # Back twice to the form, sent again as the browser kept it, then confirmed again.
    again = client.post(FORM, birth(mother, world, idempotency_key=key))
    assert again["Location"] == first["Location"]
    assert client.post(CHECK, {"nhap": key})["Location"] == first["Location"]
    assert client.get(f"{CHECK}?nhap={key}")["Location"] == first["Location"]
    assert len(filed(mother.pin)) == 1

    # Even from a session that no longer remembers the draft, the key files nothing new.
    other = signed_in(mother.pin)
    other.post(FORM, birth(mother, world, idempotency_key=key))
    other.post(CHECK, {"nhap": key})
    assert len(filed(mother.pin)) == 1


def test_an_open_dossier_of_the_same_procedure_is_pointed_out(world: World, mother: Any) -> None:
    client = signed_in(mother.pin)
    key = uuid.uuid4().hex
    client.post(FORM, birth(mother, world, idempotency_key=key))
    client.post(CHECK, {"nhap": key})
    (row,) = filed(mother.pin)
    for path in (FORM, f"/thu-tuc/{BIRTH}/"):
        page = client.get(path).content.decode()
        assert 'id="open-dossier"' in page and row.code in page
        assert f'href="/ho-so/{row.id}/"' in page


def test_the_agency_defaults_to_the_ward_of_permanent_residence_and_says_so(
    world: World, mother: Any
) -> None:
    page = signed_in(mother.pin).get(FORM).content.decode()
    assert "Cơ quan nơi bạn thường trú" in page and world.wards[0].name in page
    assert re.search(rf'<option value="{world.commune.pk}" selected>', page)
    assert "data-filter=" in page  # the list can be narrowed by typing


def test_withdrawal_asks_first(world: World, mother: Any) -> None:
    client = signed_in(mother.pin)
    key = uuid.uuid4().hex
    client.post(FORM, birth(mother, world, idempotency_key=key))
    client.post(CHECK, {"nhap": key})
    (row,) = filed(mother.pin)
    dossier_page = client.get(f"/ho-so/{row.id}/").content.decode()
    assert f'href="/ho-so/{row.id}/rut/"' in dossier_page
    ask = client.get(f"/ho-so/{row.id}/rut/")
    assert ask.status_code == 200 and "Bạn có chắc muốn rút hồ sơ" in ask.content.decode()
    assert filed(mother.pin)[0].status == "submitted"  # asking changed nothing
    version = re.search(r'name="version" value="(\d+)"', ask.content.decode())
    assert version
    client.post(f"/ho-so/{row.id}/rut/", {"version": version.group(1), "note": "Nộp nhầm"})
    assert filed(mother.pin)[0].status == "withdrawn"


def test_the_rating_radios_are_labelled_with_words(world: World, mother: Any) -> None:
    from motcua.web.forms import RatingForm

    html = str(RatingForm()["score"])
    for words in (
        "Rất hài lòng",
        "Hài lòng",
        "Bình thường",
        "Không hài lòng",
        "Rất không hài lòng",
    ):
        assert words in html
    assert "★" not in html


# --- held uploads -------------------------------------------------------------------------------


def _session() -> SessionStore:
    session = SessionStore()
    session.create()
    return session


def test_a_held_file_is_claimed_by_its_own_session_only() -> None:
    upload = pdf_file()
    mine, theirs = _session(), _session()
    kept = held.held_store(mine, upload, upload_check(upload, field="f"))

    assert held.held_claim(mine, kept.token) == kept
    assert held.held_open(kept).read().startswith(b"%PDF-")
    assert held.held_claim(theirs, kept.token) is None
    assert held.held_claim(mine, kept.token + "x") is None
    assert held.held_claim(mine, "forged:token") is None
    held.held_release(mine, kept.token)
    assert held.held_claim(mine, kept.token) is None


def test_an_expired_hold_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    upload = pdf_file()
    session = _session()
    kept = held.held_store(session, upload, upload_check(upload, field="f"))
    monkeypatch.setattr(held, "HOLD_SECONDS", -1)
    assert held.held_claim(session, kept.token) is None


def test_attack_a_held_token_copied_into_another_session_brings_no_file(
    world: World, mother: Any
) -> None:
    victim = signed_in(mother.pin)
    text = victim.post(FORM, birth(mother, world, ho_ten_tre="")).content.decode()
    token = held_token(text)

    other = make_citizen(full_name="Trần Thị Lan", sex="F", birth_date=date(1990, 1, 1))
    attacker = signed_in(other.pin)
    page = attacker.post(
        FORM,
        {**birth(other, world, file_giay_chung_sinh=None), "held_file_giay_chung_sinh": token},
    )
    assert page.status_code == 422
    assert "Đã nhận tệp" not in page.content.decode()
    assert filed(other.pin) == []


def test_attack_another_sessions_draft_key_shows_nothing(world: World, mother: Any) -> None:
    key = uuid.uuid4().hex
    signed_in(mother.pin).post(FORM, birth(mother, world, idempotency_key=key))
    other = make_citizen(full_name="Trần Thị Lan", sex="F", birth_date=date(1990, 1, 1))
    attacker = signed_in(other.pin)
    assert attacker.get(f"{CHECK}?nhap={key}")["Location"] == FORM
    assert "Nguyễn Minh Khôi" not in attacker.get(f"{FORM}?nhap={key}").content.decode()
    attacker.post(CHECK, {"nhap": key})
    assert filed(other.pin) == [] and filed(mother.pin) == []


# --- the lookup ---------------------------------------------------------------------------------


def _filed_dossier(world: World, mother: Any) -> dossiers.DossierRow:
    client = signed_in(mother.pin)
    key = uuid.uuid4().hex
    client.post(FORM, birth(mother, world, idempotency_key=key))
    client.post(CHECK, {"nhap": key})
    (row,) = filed(mother.pin)
    return row


def _answer(page: Any) -> str:
    """The page without what changes on every answer (the CSRF token)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page.content.decode())


def test_the_lookup_shows_status_agency_and_dates_and_nothing_personal(
    world: World, mother: Any
) -> None:
    row = _filed_dossier(world, mother)
    page = Client(REMOTE_ADDR="10.9.0.1").post(
        "/tra-cuu-ho-so/", {"code": row.code, "pin": mother.pin}
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="lookup-result"' in text
    assert row.status_label in text and world.commune.name in text
    assert row.due_on.strftime("%d/%m/%Y") in text
    assert mother.full_name not in text and "Nguyễn Minh Khôi" not in text
    assert f'value="{mother.pin}"' not in text  # not even echoed back into the form


def test_a_wrong_code_and_a_wrong_pin_get_the_same_answer(world: World, mother: Any) -> None:
    row = _filed_dossier(world, mother)
    client = Client(REMOTE_ADDR="10.9.0.2")
    wrong_pin = client.post("/tra-cuu-ho-so/", {"code": row.code, "pin": "087195000000"})
    wrong_code = client.post("/tra-cuu-ho-so/", {"code": row.code + "9", "pin": mother.pin})
    assert wrong_pin.status_code == wrong_code.status_code == 404
    assert _answer(wrong_pin) == _answer(wrong_code)
    assert "Không tìm thấy hồ sơ" in _answer(wrong_pin)


def test_attack_guessing_pins_for_a_code_is_cut_off(world: World, mother: Any) -> None:
    row = _filed_dossier(world, mother)
    client = Client(REMOTE_ADDR="10.9.0.3")
    for n in range(10):
        client.post("/tra-cuu-ho-so/", {"code": row.code, "pin": f"0871950000{n:02d}"})
    refused = client.post("/tra-cuu-ho-so/", {"code": row.code, "pin": mother.pin})
    assert refused.status_code == 429
    assert 'id="lookup-result"' not in refused.content.decode()
    # Another address is not held back by this one.
    other = Client(REMOTE_ADDR="10.9.0.4").post(
        "/tra-cuu-ho-so/", {"code": row.code, "pin": mother.pin}
    )
    assert other.status_code == 200


def test_attack_the_lookup_by_code_alone_or_a_pattern_finds_nothing(
    world: World, mother: Any
) -> None:
    row = _filed_dossier(world, mother)
    client = Client(REMOTE_ADDR="10.9.0.5")
    for data in (
        {"code": row.code, "pin": ""},
        {"code": "%", "pin": mother.pin},
        {"code": row.code[:-1] + "_", "pin": mother.pin},
        {"code": row.code, "pin": mother.pin[:-1] + "%"},
    ):
        page = client.post("/tra-cuu-ho-so/", data)
        assert 'id="lookup-result"' not in page.content.decode()


def test_the_registrys_verdict_comes_with_the_forms_own_in_one_pass(
    world: World, mother: Any
) -> None:
    """A man's PIN as the mother's is a registry check (the service's); the child's missing
    name is the form's: both are listed at once, not one after the other."""
    man = make_citizen(full_name="Trần Văn Nam", sex="M", birth_date=date(1990, 1, 1))
    page = signed_in(mother.pin).post(FORM, birth(mother, world, ho_ten_tre="", me_pin=man.pin))
    text = page.content.decode()
    assert page.status_code == 422
    assert {"id_ho_ten_tre", "id_me_pin"} <= summary_links(text)


def test_the_start_page_offers_search_sign_in_and_the_popular_services(world: World) -> None:
    page = Client().get("/").content.decode()
    assert 'id="home-search"' in page and 'id="sign-in"' in page
    assert page.count('<li><a class="govuk-link" href="/thu-tuc/') >= 6  # the popular ones
    assert 'href="/tra-cuu-ho-so/"' in page


def test_attack_script_in_the_search_or_the_lookup_is_shown_as_text(world: World) -> None:
    script = '<script>alert("x")</script>'
    page = Client().get("/thu-tuc/", {"q": script}).content.decode()
    assert script not in page and "&lt;script&gt;" in page
    lookup = Client(REMOTE_ADDR="10.9.0.6").post(
        "/tra-cuu-ho-so/", {"code": script, "pin": "087195000000"}
    )
    assert script not in lookup.content.decode()


def test_attack_another_citizens_confirmation_and_withdrawal_pages_are_not_found(
    world: World, mother: Any
) -> None:
    row = _filed_dossier(world, mother)
    other = make_citizen(full_name="Trần Thị Lan", sex="F", birth_date=date(1990, 1, 1))
    intruder = signed_in(other.pin)
    for path in (f"/ho-so/{row.id}/da-nop/", f"/ho-so/{row.id}/rut/"):
        page = intruder.get(path)
        assert page.status_code == 404 and row.code not in page.content.decode()
    intruder.post(f"/ho-so/{row.id}/rut/", {"version": "1"})
    assert filed(mother.pin)[0].status == "submitted"


def test_a_supplement_keeps_the_good_file_when_another_is_refused(
    world: World, mother: Any
) -> None:
    from motcua.dossiers.tests.helpers import act, desk_of

    row = _filed_dossier(world, mother)
    desk = desk_of(world.commune)
    act(desk.receiver, row.id, "receive")
    act(desk.receiver, row.id, "request_supplement", note="Thiếu giấy tờ")
    client = signed_in(mother.pin)
    page = client.get(f"/ho-so/{row.id}/").content.decode()
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version and 'id="supplement-form"' in page
    fields = re.findall(r'name="(file_[a-z_]+)"', page)
    assert len(fields) >= 2, fields
    good, bad = fields[0], fields[1]
    not_a_pdf = SimpleUploadedFile("virus.pdf", b"MZ not a pdf", content_type="application/pdf")
    answer = client.post(
        f"/ho-so/{row.id}/bo-sung/",
        {"version": version.group(1), good: pdf_file("bo-sung.pdf"), bad: not_a_pdf},
    )
    text = answer.content.decode()
    assert answer.status_code == 422 and "govuk-error-summary" in text
    assert "Đã nhận tệp bo-sung.pdf" in text
    token = re.search(rf'name="held_{good}" value="([^"]+)"', text)
    assert token
    done = client.post(
        f"/ho-so/{row.id}/bo-sung/", {"version": version.group(1), f"held_{good}": token.group(1)}
    )
    assert done.status_code == 302
    assert "bo-sung.pdf" in client.get(f"/ho-so/{row.id}/").content.decode()
