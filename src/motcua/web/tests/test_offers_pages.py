"""The portal's "Dịch vụ chủ động": the citizen's offers with what, why and until when; accepting
a renewal leads to the check-your-answers page already filled in, one click files it; declining
asks first; another person's offer is not found; a post without the CSRF token is refused."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from motcua.core.actors import Actor
from motcua.dossiers import selectors, services
from motcua.dossiers.tests.helpers import World, world_ready
from motcua.registry import selectors as registry
from motcua.registry.services import ResidenceMove, idcard_issue, residence_move
from motcua.registry.tests.factories import OFFICIAL, make_citizen
from motcua.web.portal import SESSION_KEY

pytestmark = pytest.mark.django_db
LEVEL_2 = "urn:motcua:loa:2"
PAGE = "/dich-vu-chu-dong/"


@pytest.fixture
def world(db: None) -> World:
    return world_ready()


@pytest.fixture
def person(world: World) -> Any:
    """Someone whose ID card must be renewed at 25, in ten days; offered by the scan."""
    birthday = registry.add_years(timezone.localdate() + timedelta(days=10), -25)
    citizen = make_citizen(full_name="Trần Văn Bình", birth_date=birthday)
    idcard_issue(actor=OFFICIAL, pin=citizen.pin, issued_on=registry.add_years(birthday, 21))
    residence_move(
        actor=OFFICIAL,
        pin=citizen.pin,
        move=ResidenceMove(
            kind="permanent",
            since=birthday + timedelta(days=1),
            ward=world.wards[0].key,
            address="Số 12 đường Trần Phú",
        ),
    )
    services.offers_scan()
    return citizen


def signed_in(pin: str, **options: Any) -> Client:
    client = Client(**options)
    session = client.session
    session[SESSION_KEY] = {"sub": f"s-{pin}", "pin": pin, "name": "", "acr": LEVEL_2}
    session.save()
    return client


def the_offer(pin: str) -> selectors.OfferView:
    (offer,) = selectors.offers_of(actor=Actor(kind="citizen", ref=pin, pin=pin))
    return offer


def dossiers_of(pin: str) -> list[selectors.DossierRow]:
    return selectors.dossiers_of(actor=Actor(kind="citizen", ref=pin, pin=pin))


def test_the_page_asks_to_sign_in(world: World) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]


def test_the_offer_shows_what_why_and_until_when_in_words(person: Any) -> None:
    page = signed_in(person.pin).get(PAGE).content.decode()

    assert "Thẻ căn cước của bạn sắp đến hạn đổi" in page
    assert "Bạn đủ 25 tuổi ngày" in page
    assert "Cấp đổi thẻ căn cước" in page
    until = the_offer(person.pin).until
    assert until is not None and until.strftime("%d/%m/%Y") in page
    assert "2.001195" not in page and "card_renewal" not in page and "offered" not in page
    assert f'href="{PAGE}"' in page  # the portal's navigation


def test_accepting_a_renewal_shows_the_filled_in_answers_and_one_click_files_it(
    person: Any,
) -> None:
    client = signed_in(person.pin)
    offer = the_offer(person.pin)

    accepted = client.post(f"{PAGE}{offer.id}/nhan/")

    assert accepted.status_code == 302
    check_url = accepted["Location"]
    assert check_url.startswith("/thu-tuc/2.001195/nop/kiem-tra/?nhap=")
    check = client.get(check_url).content.decode()
    assert "Đủ 14, 25, 40 hoặc 60 tuổi" in check  # the reason, in words
    assert "Đổi thẻ khi đủ 14, 25, 40, 60 tuổi" in check  # the fee exemption
    key = re.search(r'name="nhap" value="([0-9a-f]{32})"', check)
    assert key is not None

    filed = client.post("/thu-tuc/2.001195/nop/kiem-tra/", {"nhap": key.group(1)})

    assert filed.status_code == 302
    (row,) = dossiers_of(person.pin)
    dossier = selectors.dossier_detail(
        actor=Actor(kind="citizen", ref=person.pin, pin=person.pin), dossier_id=row.id
    )
    assert dossier.procedure.code == "2.001195"
    assert dossier.declaration["ly_do_doi"] == "du_tuoi"
    assert dossier.fee == 0 and dossier.fee_exemption == "doi_the_theo_tuoi"
    again = client.post(f"{PAGE}{offer.id}/nhan/")
    assert again["Location"] == f"/ho-so/{row.id}/"
    assert len(dossiers_of(person.pin)) == 1
    page = client.get(PAGE).content.decode()
    assert row.code in page


def test_declining_asks_first_then_records_it(person: Any) -> None:
    client = signed_in(person.pin)
    offer = the_offer(person.pin)

    confirm = client.get(f"{PAGE}{offer.id}/tu-choi/")
    assert confirm.status_code == 200 and "Có, từ chối" in confirm.content.decode()
    assert the_offer(person.pin).status == "offered"

    done = client.post(f"{PAGE}{offer.id}/tu-choi/", {"reason": "Tôi tự làm sau"})

    assert done.status_code == 302 and done["Location"] == PAGE
    assert the_offer(person.pin).status == "declined"
    page = client.get(PAGE).content.decode()
    assert 'id="offers-done"' in page and "Đã từ chối" in page


def test_another_citizens_offer_is_not_found(person: Any) -> None:
    stranger = make_citizen(full_name="Vũ Văn Lạ")
    client = signed_in(stranger.pin)
    offer = the_offer(person.pin)

    assert client.get(f"{PAGE}{offer.id}/tu-choi/").status_code == 404
    assert client.post(f"{PAGE}{offer.id}/tu-choi/").status_code == 404
    assert client.post(f"{PAGE}{offer.id}/nhan/").status_code == 404
    assert "Thẻ căn cước của bạn" not in client.get(PAGE).content.decode()
    assert the_offer(person.pin).status == "offered"


def test_an_accept_posted_from_elsewhere_without_the_csrf_token_is_refused(person: Any) -> None:
    client = signed_in(person.pin, enforce_csrf_checks=True)
    offer = the_offer(person.pin)

    assert client.post(f"{PAGE}{offer.id}/nhan/").status_code == 403
    assert the_offer(person.pin).status == "offered"
