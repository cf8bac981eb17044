"""The input rule (core.inputs) on the API: a NUL byte in any string parameter of any operation
(path, query, JSON or form body; headers are credentials, refused by authentication), over-long
text, line breaks in one-line fields and malformed JSON are
refused with a 422 naming the field, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from motcua.api import api
from motcua.bench.fuzz import credentials as fuzz_credentials

NUL = "\x00"


@pytest.fixture
def credentials() -> dict[str, str]:
    """A bearer for each kind of caller: a superuser's API key, a partner's eKYC token."""
    return fuzz_credentials()


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    document = api.get_openapi_schema()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


FORM = "application/x-www-form-urlencoded"


def _body_kind(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    return next((kind for kind in ("application/json", FORM) if kind in content), "")


def _body_fields(operation: dict[str, Any]) -> dict[str, Any]:
    kind = _body_kind(operation)
    if not kind:
        return {}
    schema = operation["requestBody"]["content"][kind]["schema"]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = api.get_openapi_schema()["components"]["schemas"][name]
    return dict(schema.get("properties", {}))


def _is_text(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(o.get("type") == "string" for o in options)


def _takes_text(operation: dict[str, Any]) -> bool:
    parameters = operation.get("parameters", [])
    return any(_is_text(p["schema"]) and p["in"] != "header" for p in parameters) or any(
        _is_text(prop) for prop in _body_fields(operation).values()
    )


def _requests() -> list[tuple[str, str, str, str, str, dict[str, str], dict[str, str]]]:
    """(method, path template, field, url, where, query, body) with a NUL in one text field."""
    cases = []
    for method, path, operation in _operations():
        params = [
            p
            for p in operation.get("parameters", [])
            if _is_text(p["schema"]) and p["in"] != "header"
        ]
        body = {name: "abc" for name, prop in _body_fields(operation).items() if _is_text(prop)}
        base_path = {p["name"]: "abc" for p in params if p["in"] == "path"}
        base_query = {p["name"]: "abc" for p in params if p["in"] == "query"}
        for p in params:
            where = p["in"]
            path_values = {**base_path, **({p["name"]: f"a{NUL}b"} if where == "path" else {})}
            query = {**base_query, **({p["name"]: f"a{NUL}b"} if where == "query" else {})}
            url = path.format(**{k: v.replace(NUL, "%00") for k, v in path_values.items()})
            cases.append((method, path, p["name"], url, where, query, body))
        for name in body:
            url = path.format(**base_path)
            cases.append((method, path, name, url, "body", base_query, {**body, name: f"a{NUL}b"}))
    return cases


@pytest.mark.django_db
def test_attack_nul_byte_in_every_api_string_parameter_is_refused(
    client: Client, credentials: dict[str, str]
) -> None:
    cases = _requests()
    operations = {(m, p) for m, p, *_ in cases}
    taking_text = {(m, p) for m, p, op in _operations() if _takes_text(op)}
    assert operations == taking_text  # every operation that takes text is tried
    assert len(cases) >= 14
    kinds = {(m, p): _body_kind(op) for m, p, op in _operations()}
    for method, path, field, url, where, query, body in cases:
        bearer = credentials["partner" if path.startswith("/api/identity/") else "staff"]
        form = kinds[(method, path)] == FORM
        response = client.generic(
            method,
            url + ("?" + "&".join(f"{k}={v.replace(NUL, '%00')}" for k, v in query.items())),
            (urlencode(body) if form else json.dumps(body)) if body else "",
            content_type=FORM if form else "application/json",
            HTTP_AUTHORIZATION=f"Bearer {bearer}",
        )
        label = f"{method} {path} with NUL in {where} {field}"
        assert response.status_code == 422, (label, response.status_code, response.content)
        answer = response.json()
        assert answer["code"] == "validation_failed", label
        assert field in answer["errors"] and "NUL" in answer["errors"][field], (label, answer)


@pytest.mark.django_db
def test_attack_overlong_purpose_at_verify_is_refused(
    client: Client, credentials: dict[str, str]
) -> None:
    response = client.post(
        "/api/identity/verify",
        {
            "pin": "087190000001",
            "full_name": "Trần Thị Bình",
            "birth_date": "1990-03-08",
            "purpose": "x" * 5000,
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credentials['partner']}",
    )
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "validation_failed" and "300" in answer["errors"]["purpose"]


@pytest.mark.django_db
def test_attack_line_break_in_a_single_line_field_is_refused(
    client: Client, credentials: dict[str, str]
) -> None:
    response = client.post(
        "/api/identity/verify",
        {"pin": "087190000001", "full_name": "A\nB", "birth_date": "1990", "purpose": "KYC"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credentials['partner']}",
    )
    assert response.status_code == 422 and "full_name" in response.json()["errors"]


@pytest.mark.django_db
def test_attack_deeply_nested_json_is_refused(client: Client, credentials: dict[str, str]) -> None:
    depth = 100_000
    response = client.post(
        "/api/identity/verify",
        "[" * depth + "]" * depth,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credentials['partner']}",
    )
    assert response.status_code == 422 and "body" in response.json()["errors"]


@pytest.mark.django_db
def test_nested_json_values_are_named_by_their_path(client: Client) -> None:
    response = client.post(
        "/api/identity/verify",
        {"purpose": "KYC", "extra": {"list": ["ok", "a\x00"]}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["extra.list.1"]


@pytest.mark.django_db
def test_attack_malformed_json_is_refused(client: Client, credentials: dict[str, str]) -> None:
    response = client.post(
        "/api/identity/verify",
        b'{"pin": "0871\xff',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credentials['partner']}",
    )
    assert response.status_code == 422 and "body" in response.json()["errors"]
