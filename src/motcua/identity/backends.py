"""The authentication backend of the back office and the admin: Django's own password check
behind the e-ID's shared throttle, so that every password check of the platform is limited
and recorded the same way."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from motcua.identity.services import Client, password_attempt_allowed, staff_attempt_recorded
from motcua.identity.sessions import request_client


class ThrottledBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **credentials: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        client = request_client(request) if request is not None else Client(ip=None)
        if not password_attempt_allowed(username=username, client=client):
            raise PermissionDenied  # Django then answers as for a wrong password
        user = super().authenticate(request, username=username, password=password, **credentials)
        staff_attempt_recorded(username=username, client=client, success=user is not None)
        return user
