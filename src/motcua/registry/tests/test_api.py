"""The registry API over real HTTP handling: who may read, and that every read is logged."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from motcua.core.apikeys import apikey_create
from motcua.core.models import AccessLog
from motcua.registry.dates import add_years
from motcua.registry.models import IdCard
from motcua.registry.tests.factories import make_citizen, make_user

pytestmark = pytest.mark.django_db

PURPOSE = "xác minh hồ sơ khai sinh"


@pytest.fixture
def staff_key() -> str:
    return apikey_create(name="test tool", user=make_user("canbo", "registry.view_citizen"))


def _get(client: Client, url: str, key: str | None = None, **params: str) -> object:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(url, params, headers=headers)


def test_anonymous_callers_are_refused(client: Client) -> None:
    person = make_citizen()
    response = _get(client, f"/api/registry/citizens/{person.pk}", purpose=PURPOSE)
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert not AccessLog.objects.exists()


def test_a_key_of_a_user_without_the_permission_is_refused(client: Client) -> None:
    person = make_citizen()
    key = apikey_create(name="unrelated", user=make_user("khach"))
    response = _get(client, f"/api/registry/citizens/{person.pk}", key, purpose=PURPOSE)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not AccessLog.objects.exists()


def test_a_wrong_key_is_refused(client: Client) -> None:
    response = _get(client, "/api/registry/citizens/087084000999", "mck_not-a-key", purpose=PURPOSE)
    assert response.status_code == 401  # type: ignore[attr-defined]


def test_an_authorised_read_returns_the_record_and_is_logged(
    client: Client, staff_key: str
) -> None:
    person = make_citizen(
        full_name="Võ Thị Sáu", sex="F", birth_date=date(1933, 1, 1), birth_date_precision="year"
    )
    response = _get(client, f"/api/registry/citizens/{person.pk}", staff_key, purpose=PURPOSE)
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["full_name"], body["birth_date"], body["status"]) == (
        "Võ Thị Sáu",
        "1933",
        "living",
    )
    log = AccessLog.objects.get()
    assert (log.subject_pin, log.actor, log.data, log.purpose) == (
        person.pk,
        "official:canbo",
        "registry.citizen",
        PURPOSE,
    )


def test_a_read_without_a_purpose_or_with_a_bad_pin_is_refused(
    client: Client, staff_key: str
) -> None:
    assert _get(client, "/api/registry/citizens/087084000999", staff_key).status_code == 422  # type: ignore[attr-defined]
    response = _get(client, "/api/registry/citizens/08708400099", staff_key, purpose=PURPOSE)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "12 chữ số" in response.json()["errors"]["pin"]  # type: ignore[attr-defined]
    assert not AccessLog.objects.exists()


def test_an_unknown_pin_is_404(client: Client, staff_key: str) -> None:
    response = _get(client, "/api/registry/citizens/087084999999", staff_key, purpose=PURPOSE)
    assert response.status_code == 404  # type: ignore[attr-defined]


def test_search_finds_a_name_without_diacritics_and_with_a_typo(
    client: Client, staff_key: str
) -> None:
    wanted = make_citizen(full_name="Nguyễn Thị Phương Thảo", sex="F", birth_date=date(1990, 7, 4))
    make_citizen(full_name="Nguyễn Thị Phương Thảo", sex="F", birth_date=date(1971, 2, 2))
    make_citizen(full_name="Trần Văn Hùng", birth_date=date(1990, 7, 4))
    response = _get(
        client,
        "/api/registry/citizens",
        staff_key,
        name="nguyen thi phuong thao",
        birth_date="1990-07-04",
        purpose=PURPOSE,
    )
    assert [hit["pin"] for hit in response.json()] == [wanted.pk]  # type: ignore[attr-defined]
    typo = _get(
        client, "/api/registry/citizens", staff_key, name="Nguyen Thi Phuong Tao", purpose=PURPOSE
    )
    hits = typo.json()  # type: ignore[attr-defined]
    assert wanted.pk in {hit["pin"] for hit in hits} and len(hits) == 2
    assert AccessLog.objects.filter(data="registry.search", subject_pin=wanted.pk).count() == 2


def test_history_and_household_are_logged_for_each_person_read(
    client: Client, staff_key: str
) -> None:
    person = make_citizen()
    history = _get(
        client, f"/api/registry/citizens/{person.pk}/history", staff_key, purpose=PURPOSE
    )
    assert [e["kind"] for e in history.json()] == ["registered"]  # type: ignore[attr-defined]
    household = _get(
        client, f"/api/registry/citizens/{person.pk}/household", staff_key, purpose=PURPOSE
    )
    assert household.status_code == 404  # type: ignore[attr-defined]
    assert AccessLog.objects.filter(data="registry.history").count() == 1


def test_cards_due_for_renewal(client: Client, staff_key: str) -> None:
    response = _get(
        client, "/api/registry/cards/due", staff_key, within_days="5000", purpose=PURPOSE
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "within_days" in response.json()["errors"]  # type: ignore[attr-defined]


def test_search_with_day_and_month_swapped_or_a_year_known_only(
    client: Client, staff_key: str
) -> None:
    swapped = make_citizen(full_name="Lê Văn Tám", birth_date=date(1985, 3, 11))
    year_only = make_citizen(
        full_name="Lê Văn Tâm", birth_date=date(1985, 1, 1), birth_date_precision="year"
    )
    make_citizen(full_name="Lê Văn Tám", birth_date=date(1990, 3, 11))
    response = _get(
        client,
        "/api/registry/citizens",
        staff_key,
        name="Le Van Tam",
        birth_date="1985-11-03",
        purpose=PURPOSE,
    )
    assert {hit["pin"] for hit in response.json()} == {swapped.pk, year_only.pk}  # type: ignore[attr-defined]


def test_cards_due_lists_only_active_cards_of_the_living_expiring_in_the_window(
    client: Client, staff_key: str
) -> None:
    today = date.today()
    due = make_citizen(birth_date=add_years(today, -25) + timedelta(days=10))
    later = make_citizen(
        full_name="Trần Văn Bình",
        birth_date=add_years(today, -25) + timedelta(days=100),
    )
    dead = make_citizen(full_name="Lê Văn Cường", birth_date=due.birth_date, death_date=today)
    for person in (due, later, dead):
        IdCard.objects.create(
            citizen=person, issued_on=date(2015, 1, 1), expires_on=add_years(person.birth_date, 25)
        )
    response = _get(client, "/api/registry/cards/due", staff_key, within_days="30", purpose=PURPOSE)
    assert [row["pin"] for row in response.json()] == [due.pk]  # type: ignore[attr-defined]
