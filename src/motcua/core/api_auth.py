"""Authentication for the JSON API: a bearer API key or a staff session (with CSRF)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from motcua.core.actors import Actor
from motcua.core.apikeys import apikey_actor


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return apikey_actor(token)


STAFF_AUTH = [ApiKeyAuth(), django_auth]


def request_actor(request: HttpRequest) -> Actor:
    """The actor behind a request: from its API key, or from the logged-in staff user."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Actor) else Actor.from_user(request.user)
