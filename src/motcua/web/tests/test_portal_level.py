"""The e-ID level a procedure needs, at the portal: a sign-in below it is sent to the provider to
sign in at that level, an account that has no such level is told where to get it, and a form
posted at the lower level files nothing."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from motcua.catalog.selectors import procedure_current
from motcua.core.actors import Actor
from motcua.dossiers import selectors as dossiers
from motcua.dossiers.tests.factories import BIRTH, uploads_for, valid_declaration
from motcua.dossiers.tests.helpers import World, world_ready
from motcua.registry.tests.factories import make_citizen
from motcua.web.portal import NEXT_KEY, SESSION_KEY, STEP_UP_KEY, session_level

CMND_CONFIRMATION = "2.001178"  # a lookup: level 1 is enough
LEVEL_1 = "urn:motcua:loa:1"
LEVEL_2 = "urn:motcua:loa:2"


@pytest.fixture
def world(db: None) -> World:
    return world_ready()


@pytest.fixture
def mother(world: World) -> Any:
    return make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))


def _portal_session(client: Client, pin: str, acr: str, **extra: Any) -> None:
    """A portal session as the sign-in callback leaves it (see portal.portal_user)."""
    session = client.session
    session[SESSION_KEY] = {"sub": f"s-{pin}", "pin": pin, "name": "", "acr": acr, "id_token": ""}
    session.update(extra)
    session.save()


def _birth_form(world: World, pin: str) -> dict[str, Any]:
    """A complete, valid birth registration as the submit page posts it."""
    procedure = procedure_current(BIRTH)
    fields = {k: str(v) for k, v in valid_declaration(procedure).items() if v is not False}
    fields.pop("cha_pin", None)  # a father the registry does not know would be refused
    born = date.fromisoformat(fields.pop("ngay_sinh"))  # three boxes on the page
    dates = {"ngay_sinh_0": born.day, "ngay_sinh_1": born.month, "ngay_sinh_2": born.year}
    files = {f"file_{code}": f for code, f in uploads_for(procedure, pin).items()}
    return {
        "agency_id": str(world.commune.pk),
        "idempotency_key": uuid.uuid4().hex,
        **fields,
        **dates,
        "me_pin": pin,
        **files,
    }


def _filed(pin: str) -> int:
    return len(dossiers.dossiers_of(actor=Actor(kind="citizen", ref=pin, pin=pin)))


def test_attack_a_level_1_session_posting_a_level_2_submit_form_is_refused(
    world: World, mother: Any
) -> None:
    """Someone who registered a level-1 account in another person's name posts a complete
    birth registration straight to the submit URL: refused, nothing filed. The same form from
    a level-2 session files the dossier, so the level alone made the difference."""
    client = Client()
    _portal_session(client, mother.pin, LEVEL_1)

    answer = client.post(f"/thu-tuc/{BIRTH}/nop/", _birth_form(world, mother.pin))

    assert answer.status_code == 403
    assert "tài khoản định danh điện tử mức 2" in answer.content.decode()
    assert _filed(mother.pin) == 0

    _portal_session(client, mother.pin, LEVEL_2)
    form = _birth_form(world, mother.pin)
    answer = client.post(f"/thu-tuc/{BIRTH}/nop/", form)
    assert answer.status_code == 302 and "/nop/kiem-tra/" in answer["Location"]
    answer = client.post(f"/thu-tuc/{BIRTH}/nop/kiem-tra/", {"nhap": form["idempotency_key"]})
    assert answer.status_code == 302 and "/ho-so/" in answer["Location"]
    assert _filed(mother.pin) == 1

    # The check-your-answers step refuses a level-1 session as well.
    _portal_session(client, mother.pin, LEVEL_1)
    form = _birth_form(world, mother.pin)
    answer = client.post(f"/thu-tuc/{BIRTH}/nop/kiem-tra/", {"nhap": form["idempotency_key"]})
    assert answer.status_code == 403 and _filed(mother.pin) == 1


def test_after_a_step_up_that_did_not_raise_the_level_the_page_says_activate_at_the_police(
    world: World, mother: Any
) -> None:
    client = Client()
    path = f"/thu-tuc/{BIRTH}/nop/"
    _portal_session(client, mother.pin, LEVEL_1, **{STEP_UP_KEY: {"path": path, "level": 2}})

    page = client.get(path)

    text = page.content.decode()
    assert page.status_code == 403
    assert "tại cơ quan công an" in text
    assert 'id="submit-form"' not in text
    assert f'href="{path}?buoc-len=1"' in text  # try the level-2 sign-in again


def test_a_level_2_session_gets_the_form_and_level_1_is_enough_for_a_lookup(
    world: World, mother: Any
) -> None:
    client = Client()
    _portal_session(client, mother.pin, LEVEL_2)
    assert 'id="submit-form"' in client.get(f"/thu-tuc/{BIRTH}/nop/").content.decode()

    _portal_session(client, mother.pin, LEVEL_1)
    page = client.get(f"/thu-tuc/{CMND_CONFIRMATION}/nop/")
    assert page.status_code == 200 and 'id="submit-form"' in page.content.decode()


def test_the_session_level_comes_from_the_id_tokens_acr() -> None:
    assert session_level(None) == 0
    assert session_level({"pin": "087195100001", "acr": LEVEL_2}) == 2
    assert session_level({"pin": "087195100001", "acr": LEVEL_1}) == 1
    assert session_level({"pin": "087195100001", "acr": "urn:other:loa:3"}) == 1
    assert session_level({"pin": "087195100001", "acr": "2"}) == 1  # only the provider's names


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_level_1_session_is_sent_to_the_provider_to_sign_in_at_level_2_and_back(
    live_server: LiveServer, settings: Any
) -> None:
    settings.PUBLIC_URL = live_server.url
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": live_server.url + "/o",
    }
    world_ready()
    person = make_citizen(full_name="Lê Thị Mai", sex="F", birth_date=date(1995, 4, 2))
    client = Client()
    _portal_session(client, person.pin, LEVEL_1)
    path = f"/thu-tuc/{BIRTH}/nop/"

    answer = client.get(path)

    assert answer.status_code == 302
    target = urlsplit(answer["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}".startswith(live_server.url + "/o/")
    assert query["acr_values"] == [LEVEL_2]
    assert query["redirect_uri"] == [live_server.url + "/oidc/callback/"]
    assert client.session[NEXT_KEY] == path  # back to the submit page after the sign-in
    assert client.session[STEP_UP_KEY] == {"path": path, "level": 2}
