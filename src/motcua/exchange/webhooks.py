"""The webhook machinery: the signing secret sealed at rest, the signature, which addresses
may receive, and one HTTP attempt.

Secrets are encrypted with Fernet under a key derived from SECRET_KEY by HKDF (its own `info`,
so the key serves nothing else); keys derived from SECRET_KEY_FALLBACKS still open secrets
sealed before a rotation.

Which URLs may receive (server-side request forgery): https only, no user or password in the
URL, and a host whose every address is public (not private, loopback, link-local — which
holds cloud metadata services —, shared, reserved or multicast). The check runs at
subscription and again before each attempt (an address may change), and redirects are not
followed. Plain http to this machine (localhost, 127.0.0.1, ::1) is allowed only when
settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK is on (development and tests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _

SIGNATURE_HEADER = "X-Motcua-Signature"
EVENT_HEADER = "X-Motcua-Event-Id"
TIMEOUT_S = 5.0
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
_HKDF_INFO = b"motcua.exchange.webhook-secret"


# --- the secret at rest -------------------------------------------------------------------------


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def secret_seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_open(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("webhook secret sealed under an unknown key") from None


# --- the signature ------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the receiver recomputes
    it over the raw body and refuses old timestamps (replays)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_valid(secret: str, header: str, body: bytes, *, tolerance_s: int = 300) -> bool:
    """The receiver's side of `signature` (used by tests and the demo's receiver)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get('v1', '')}")


# --- which URLs may receive ---------------------------------------------------------------------


def loopback_allowed() -> bool:
    return bool(settings.EXCHANGE_WEBHOOK_ALLOW_LOOPBACK)


def url_problem(url: str, *, resolve: bool = True) -> str | None:
    """Why this URL may not receive webhooks, or None."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return _("Địa chỉ không hợp lệ")
    if parts.username or parts.password or parts.fragment:
        return _("Địa chỉ không được chứa tên đăng nhập, mật khẩu hoặc #")
    if not host:
        return _("Địa chỉ không hợp lệ")
    if host in _LOOPBACK_NAMES and loopback_allowed():
        return None if parts.scheme in ("http", "https") else _("Chỉ nhận địa chỉ https")
    if parts.scheme != "https":
        return _("Chỉ nhận địa chỉ https")
    if not resolve:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)}
    except (socket.gaierror, UnicodeError):
        return _("Không tìm thấy máy chủ %(host)s") % {"host": host}
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return _("Không được gửi tới địa chỉ mạng nội bộ")
    return None


# --- one attempt --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    error: str = ""


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def post(url: str, *, secret: str, event_id: str, payload: dict[str, Any]) -> Attempt:
    """POST the event once. Any 2xx is delivered; anything else (a refused URL included) is an
    error worth retrying later."""
    problem = url_problem(url)
    if problem:
        return Attempt(False, problem)
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Motcua-Webhooks/1",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        EVENT_HEADER: event_id,
    }
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=TIMEOUT_S, follow_redirects=False
        )
    except httpx.HTTPError as error:
        return Attempt(False, f"{type(error).__name__}: {error}"[:300])
    if 200 <= response.status_code < 300:
        return Attempt(True)
    return Attempt(False, f"HTTP {response.status_code}")
