"""Officials in tests: an authenticator (a confirmed TOTP device), a test client whose session
passed the second factor, and the two-step sign-in of the back office as a browser does it."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from motcua.web.backoffice import SEEN_KEY


def authenticator(user: User) -> TOTPDevice:
    """The official's confirmed authenticator app (made once)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def code_now(device: TOTPDevice) -> str:
    """The code the authenticator shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def verify_session(client: Client, user: User) -> None:
    """Mark the client's session as verified by the user's authenticator, as the sign-in's
    second step does (the client must already be signed in as `user`)."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session[SEEN_KEY] = time.time()
    session.save()


def official_client(user: User, **client_options: Any) -> Client:
    """A client signed in as the official, past the second factor."""
    client = Client(**client_options)
    client.force_login(user)
    verify_session(client, user)
    return client


def sign_in(client: Client, username: str, password: str, *, next_url: str = "") -> Any:
    """The back office's sign-in as a person does it: password, then the authenticator's code.
    Returns the answer to the code."""
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    first = client.post(reverse("backoffice:login"), data)
    assert first.status_code == 302, first.content.decode()
    assert first["Location"] == reverse("backoffice:login_code")
    device = authenticator(User.objects.get(username=username))
    return client.post(reverse("backoffice:login_code"), {"code": code_now(device)})
