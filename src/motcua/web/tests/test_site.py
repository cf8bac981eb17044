"""The platform answers: health with the database status, OpenAPI, docs, home page."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_openapi_lists_the_registry_and_geo_endpoints(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/registry/citizens/{pin}" in paths
    assert "/api/geo/units/{key}" in paths
    assert client.get("/api/docs").status_code == 200


def test_home_page_is_vietnamese_first(client: Client) -> None:
    body = client.get("/").content.decode()
    assert 'lang="vi"' in body and "Quản trị dữ liệu dân cư" in body


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOTCUA_DEBUG": "1", "MOTCUA_SECRET_KEY": "x" * 60}, "MOTCUA_DEBUG must be off"),
        ({"MOTCUA_SECRET_KEY": ""}, "MOTCUA_SECRET_KEY"),
    ],
)
def test_production_settings_refuse_debug_and_default_secrets(
    env: dict[str, str], message: str
) -> None:
    code = "import django; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            "DJANGO_SETTINGS_MODULE": "motcua.settings.production",
            "DATABASE_URL": "postgresql:///x",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and message in result.stderr
