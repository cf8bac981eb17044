"""The input rule (core.inputs) and its middleware on pages: NUL bytes and control characters are
refused with a 400 naming the field, never a 500; bodies above the cap are refused with 413
before they are read. The API's side: motcua/tests/test_api_inputs.py."""

from __future__ import annotations

import io
from html import escape
from typing import Any

import pytest
from django.test import Client

from motcua.core.inputs import problems, text_problem

NUL = "\x00"


def test_the_rule() -> None:
    assert text_problem("Nguyễn Văn A") is None
    assert text_problem("dòng 1\r\ndòng 2\tcột") is None  # text areas keep their line breaks
    assert text_problem("a\x00b") is not None
    assert text_problem("a\x1bb") is not None and text_problem("a\x7f") is not None
    assert text_problem("dòng 1\ndòng 2", single_line=True) is not None
    assert text_problem("x" * 301, limit=300) is not None
    assert problems([("a", {"b": ["ok", "x\x00"]}), ("c", "ok")]) == {"a.b.1": text_problem(NUL)}


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attack_nul_byte_in_a_page_query_is_refused(client: Client) -> None:
    response = client.get("/thu-tuc/", {"q": f"khai{NUL}sinh"})
    assert response.status_code == 400
    assert escape(str(text_problem(NUL))) in response.content.decode()  # in words, not codes


@pytest.mark.django_db
def test_attack_nul_byte_in_a_page_form_is_refused(client: Client) -> None:
    response = client.post("/can-bo/dang-nhap/", {"username": f"admin{NUL}", "password": "x"})
    assert response.status_code == 400
    assert escape(str(text_problem(NUL))) in response.content.decode()


# --- body size ----------------------------------------------------------------------------------


class _Unreadable(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/identity/verify", "application/json"),
        ("/can-bo/dang-nhap/", "application/x-www-form-urlencoded"),
        ("/thu-tuc/khai-sinh/nop/", "multipart/form-data; boundary=x"),
    ],
)
def test_attack_oversized_body_is_refused_unread(
    client: Client, settings: Any, path: str, content_type: str
) -> None:
    limit = settings.REQUEST_MAX_BYTES if content_type.startswith("multipart") else 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(limit + 1), "wsgi.input": _Unreadable()}
    response = client.generic("POST", path, b"", content_type=content_type, **environ)
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_body_within_the_cap_goes_through(client: Client) -> None:
    response = client.post("/can-bo/dang-nhap/", {"username": "a", "password": "b"})
    assert response.status_code != 413
