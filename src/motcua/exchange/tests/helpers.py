"""Test helpers for the exchange: a registered partner portal, its access tokens, a citizen's
real id_token from the provider's code flow, the API called as a partner, a real HTTP receiver
of webhooks."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from motcua.core.actors import SYSTEM
from motcua.exchange.services import exchange_partner_register
from motcua.identity.services import Credentials
from motcua.identity.tests.factories import (
    BANK_REDIRECT,
    Person,
    authorize_url,
    consent_and_code,
    pkce_pair,
    signed_in,
    token_request,
)


@dataclass(frozen=True)
class Portal:
    id: int
    name: str
    credentials: Credentials

    @property
    def client_id(self) -> str:
        return self.credentials.client_id


def make_portal(name: str = "Cổng Dịch vụ công quốc gia") -> Portal:
    partner, credentials = exchange_partner_register(
        actor=SYSTEM, name=name, redirect_uris=[BANK_REDIRECT]
    )
    return Portal(partner.id, partner.name, credentials)


def access_token(client_id: str, scope: str = "dossiers", *, ttl_s: int = 300) -> str:
    """A client-credentials access token of the application, as the provider stores it. Made
    here rather than at /o/token/ because identity does not yet let a partner portal use the
    client-credentials grant with the `dossiers` scope (see test_auth's xfail)."""
    raw = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        application=Application.objects.get(client_id=client_id),
        user=None,
        token=raw,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=ttl_s),
    )
    return raw


def id_token_for(person: Person, portal: Portal, *, level: int = 1) -> str:
    """The id_token the provider issues to the portal when the person signs in there (the code
    flow with PKCE, the consent screen, and at level 2 the second factor)."""
    return str(tokens_for(person, portal, level=level)["id_token"])


def tokens_for(person: Person, portal: Portal, *, level: int = 1) -> dict[str, object]:
    """The provider's whole token answer to the portal for the person's sign-in."""
    client = Client()
    signed_in(client, person)
    verifier, challenge = pkce_pair()
    extra = {"scope": "openid profile pin"}
    if level == 2:
        extra["acr_values"] = "urn:motcua:loa:2"
    url = authorize_url(portal.client_id, challenge, **extra)
    if level == 2:
        step_up = client.get(url)
        assert step_up.status_code == 302, step_up
        done = client.post(step_up["Location"], {"code": person.totp_now(), "next": url})
        assert done.status_code == 302, done.content.decode()[:300]
    answer = consent_and_code(client, url)
    tokens = token_request(client, portal.credentials, code=answer["code"], code_verifier=verifier)
    assert tokens["_status"] == 200, tokens
    return tokens


@dataclass
class Caller:
    """The API as one partner acting for one citizen."""

    token: str
    id_token: str
    client: Client = field(default_factory=Client)

    def headers(self, **extra: str) -> dict[str, Any]:
        return {
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_X_CITIZEN_ID_TOKEN": self.id_token,
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in extra.items()},
        }

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/exchange{path}", **self.headers())

    def post(self, path: str, data: dict[str, Any], *, key: str | None = None) -> Any:
        extra = {"Idempotency-Key": key} if key else {}
        return self.client.post(f"/api/exchange{path}", data, **self.headers(**extra))


def new_key() -> str:
    return uuid.uuid4().hex


# --- a real receiver -------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to give, then 204

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else 204


@contextmanager
def receiver() -> Iterator[Receiver]:
    """An HTTP server on 127.0.0.1 in a thread that records every POST."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.next_status()
            state.received.append(Received({k: v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/motcua/webhook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
