"""The public geo API over Django's request handling."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str, **params: Any) -> tuple[int, Any]:
    response = client.get(url, params)
    return response.status_code, response.json()


def test_search_ranks_the_province_first(client: Client) -> None:
    status, body = _get(client, "/api/geo/units", q="ho chi minh", scheme="2025")
    assert status == 200
    assert body[0]["key"] == "2025:79"
    assert body[0]["full_name"] == "Thành phố Hồ Chí Minh"
    assert body[0]["valid_from"] == "2025-07-01"


def test_search_filters_by_level(client: Client) -> None:
    status, body = _get(client, "/api/geo/units", q="Đắk Lắk", level="province", limit=5)
    assert status == 200
    assert [u["key"] for u in body] == ["2025:66", "pre2025:66"]


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "hue", "level": "county"}, {"q": "hue", "limit": 0}]
)
def test_bad_search_parameters_are_refused(client: Client, params: dict[str, Any]) -> None:
    status, _ = _get(client, "/api/geo/units", **params)
    assert status == 422


def test_one_unit_by_key(client: Client) -> None:
    status, body = _get(client, "/api/geo/units/pre2025:74")
    assert status == 200
    assert body["name"] == "Tỉnh Bình Dương"
    assert body["valid_to"] == "2025-06-30"
    assert body["parent_key"] is None


def test_an_unknown_key_is_404_with_a_clear_message(client: Client) -> None:
    status, body = _get(client, "/api/geo/units/2025:99")
    assert status == 404
    assert body["code"] == "not_found"
    assert "2025:99" in body["detail"]


def test_what_an_old_unit_is_now(client: Client) -> None:
    status, body = _get(client, "/api/geo/units/pre2025:02/current")
    assert status == 200
    assert [(u["key"], u["name"]) for u in body] == [("2025:08", "Tỉnh Tuyên Quang")]


def test_current_of_an_unknown_key_is_404(client: Client) -> None:
    status, body = _get(client, "/api/geo/units/pre2025:99/current")
    assert status == 404
    assert "pre2025:99" in body["detail"]
