"""Authentication for the JSON API: a bearer API key or a staff session (with CSRF).

An API key must hold the operation's scope (`motcua.core.apikeys.operation_scope`): given to
`ApiKeyAuth`, or else taken from the request, the API section being the first segment of the
path below the API's root (`/api/registry/...` → `registry`). A staff session acts with its
user's permissions and has no scopes."""

from __future__ import annotations

from contextlib import suppress

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from ninja.security import HttpBearer, django_auth

from motcua.core.actors import Actor
from motcua.core.apikeys import apikey_actor, operation_scope


def request_scope(request: HttpRequest) -> str:
    """The scope the requested API operation needs, from its path and method."""
    match = request.resolver_match
    root = "/"
    if match is not None and match.namespace:
        with suppress(NoReverseMatch):
            root = reverse(f"{match.namespace}:api-root")
    section = request.path_info.removeprefix(root).strip("/").split("/", 1)[0]
    return operation_scope(section=section, method=request.method or "GET")


class ApiKeyAuth(HttpBearer):
    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return apikey_actor(token, scope=self.scope or request_scope(request))


STAFF_AUTH = [ApiKeyAuth(), django_auth]


def request_actor(request: HttpRequest) -> Actor:
    """The actor behind a request: from its API key, or from the logged-in staff user."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Actor) else Actor.from_user(request.user)
