"""Issue 13's low items: no one-time code in logs, production settings that pass
`check --deploy` and refuse leaky messaging defaults, a health check that tells strangers
nothing, a demo that refuses production, and a Content-Security-Policy on every page."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.test import Client
from oauth2_provider.models import get_application_model

from motcua.core.apikeys import apikey_create
from motcua.core.messaging import LoggingSmsGateway

SERVER_ERROR = 'connection to server at "10.2.0.7", port 5432 failed: role "motcua_owner"'


def _production_env(**extra: str) -> dict[str, str]:
    """What a production deployment sets: secrets, https URLs, a real SMS gateway and mail."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MOTCUA_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="motcua.settings.production",
        DATABASE_URL="postgresql://motcua@127.0.0.1:1/motcua",  # nothing listens: never reached
        MOTCUA_SECRET_KEY=secrets.token_urlsafe(64),
        MOTCUA_PUBLIC_URL="https://dichvucong.example.vn",
        MOTCUA_OIDC_ISSUER="https://dichvucong.example.vn/o",
        MOTCUA_ALLOWED_HOSTS="dichvucong.example.vn",
        MOTCUA_SMS_GATEWAY="motcua.core.messaging.OutboxSmsGateway",
        MOTCUA_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        MOTCUA_VAR_DIR=os.environ.get("MOTCUA_VAR_DIR", "var"),
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )


def _django_setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(["-c", "import django; django.setup()"], env)


# --- one-time codes and logs -------------------------------------------------------------------


def test_production_settings_start_with_a_real_gateway_and_mail_backend() -> None:
    result = _django_setup(_production_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOTCUA_SMS_GATEWAY": "motcua.core.messaging.LoggingSmsGateway"}, "MOTCUA_SMS_GATEWAY"),
        ({"MOTCUA_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "console"),
        ({"MOTCUA_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, "locmem"),
        ({"MOTCUA_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, "file"),
    ],
)
def test_attack_reading_codes_from_production_logs_is_refused_at_start(
    env: dict[str, str], message: str
) -> None:
    result = _django_setup(_production_env(**env))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_production_refuses_the_defaults_when_nothing_is_set() -> None:
    env = _production_env()
    del env["MOTCUA_SMS_GATEWAY"], env["MOTCUA_EMAIL_BACKEND"]
    result = _django_setup(env)
    assert result.returncode != 0 and "logging gateway" in result.stderr


def test_attack_reading_a_code_from_the_log_is_refused(
    caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.DEBUG = False
    settings.SMS_LOG_CODES = False
    with caplog.at_level(logging.WARNING, logger="motcua.sms"):
        LoggingSmsGateway().send("0912345678", "Mã xác thực Motcua: 482913 (5 phút)")
    assert "482913" not in caplog.text and "0912345678" not in caplog.text
    assert "••••••" in caplog.text and "678" in caplog.text  # still says a message went out


@pytest.mark.parametrize("flag", ["DEBUG", "SMS_LOG_CODES"])
def test_a_developer_or_the_demo_sees_the_code_in_the_log(
    flag: str, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.DEBUG = settings.SMS_LOG_CODES = False
    setattr(settings, flag, True)
    with caplog.at_level(logging.WARNING, logger="motcua.sms"):
        LoggingSmsGateway().send("0912345678", "Mã xác thực Motcua: 482913")
    assert "482913" in caplog.text and "0912345678" in caplog.text


# --- check --deploy ----------------------------------------------------------------------------


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = _run(
        ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"], _production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_sends_the_security_headers() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.OAUTH2_PROVIDER['ALLOWED_REDIRECT_URI_SCHEMES'])"
    )
    result = _run(["-c", code], _production_env())
    assert result.stdout.split(maxsplit=4) == ["True", "31536000", "True", "True", "['https']\n"]


# --- /healthz ----------------------------------------------------------------------------------


class _DownConnection:
    """The health check's `SELECT 1` failing as a real outage does, with the server's words."""

    def cursor(self) -> Any:
        raise DatabaseError(SERVER_ERROR)


@pytest.fixture
def database_down() -> Any:
    with mock.patch("motcua.core.views.connection", _DownConnection()):
        yield


@pytest.mark.django_db
def test_healthz_answers_ok_to_anyone(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_attack_reading_database_errors_from_healthz_is_refused(
    client: Client, database_down: None
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "error"}
    assert b"10.2.0.7" not in response.content and b"motcua_owner" not in response.content
    forged = client.get("/healthz", headers={"Authorization": "Bearer mck_guessed"})
    assert b"10.2.0.7" not in forged.content


@pytest.mark.django_db
def test_staff_and_api_keys_see_the_database_error(client: Client, database_down: None) -> None:
    key = apikey_create(name="monitoring", user=User.objects.create_user("giamsat"))
    with_key = client.get("/healthz", headers={"Authorization": f"Bearer {key}"})
    assert with_key.status_code == 503 and with_key.json()["detail"] == SERVER_ERROR

    staff = Client()
    staff.force_login(User.objects.create_user("vanhanh", is_staff=True))
    assert staff.get("/healthz").json()["detail"] == SERVER_ERROR

    citizen = Client()
    citizen.force_login(User.objects.create_user("congdan"))
    assert "detail" not in citizen.get("/healthz").json()


# --- motcua demo -------------------------------------------------------------------------------


def test_attack_running_the_demo_under_production_settings_is_refused() -> None:
    """The demo creates logins with a published password; under production settings it stops
    before touching the database (which, here, does not even exist)."""
    result = _run(["-m", "motcua.cli", "demo", "--no-serve", "--citizens", "1"], _production_env())
    assert result.returncode != 0
    assert "refuses production settings" in result.stderr
    assert "OperationalError" not in result.stderr  # refused before any migration


@pytest.mark.django_db
def test_the_demo_refuses_settings_that_look_like_production(settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 3600
    with (
        mock.patch("motcua.demo.management.commands.demo.call_command") as migrate,
        pytest.raises(CommandError, match="production"),
    ):
        call_command("demo", "--no-serve", "--citizens", "1")
    migrate.assert_not_called()


# --- Content-Security-Policy -------------------------------------------------------------------

PAGES = ["/", "/thu-tuc/", "/id/dang-nhap/", "/id/dang-ky/", "/can-bo/dang-nhap/", "/admin/login/"]


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PAGES, "/api/docs"])
def test_every_page_has_a_strict_content_security_policy(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    assert not any("unsafe" in value for values in policy.values() for value in values)


@pytest.mark.django_db
def test_attack_posting_an_injected_form_to_a_stranger_is_refused(client: Client) -> None:
    """form-action names only the platform, and on the provider's pages the registered
    relying parties: a form injected into a page cannot post the sign-in fields elsewhere."""
    get_application_model().objects.create(
        name="Ngân hàng",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://nganhang.example/dang-nhap/callback",
        post_logout_redirect_uris="https://nganhang.example/da-dang-xuat",
        algorithm="RS256",
    )
    provider_page = _directives(client.get("/id/dang-nhap/")["Content-Security-Policy"])
    portal_page = _directives(client.get("/thu-tuc/")["Content-Security-Policy"])
    assert set(provider_page["form-action"]) == {
        "'self'",
        "http://localhost:8000",  # the provider and the portal (test settings)
        "https://nganhang.example",  # the registered relying party
    }
    assert set(portal_page["form-action"]) == {"'self'", "http://localhost:8000"}
