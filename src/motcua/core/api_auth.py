"""Authentication for the JSON API: a bearer API key or a staff session (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from motcua.core.actors import Actor
from motcua.core.apikeys import apikey_user


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = apikey_user(token)
        if user is not None:
            request.user = user
        return user


STAFF_AUTH = [ApiKeyAuth(), django_auth]


def request_actor(request: HttpRequest) -> Actor:
    return Actor.from_user(request.user)
