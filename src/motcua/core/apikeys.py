"""Bearer API keys for staff tools and partner systems. Keys are shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User

from motcua.core.models import ApiKey


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def apikey_create(*, name: str, user: User) -> str:
    key = "mck_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(name=name, user=user, key_hash=_digest(key))
    return key


def apikey_user(key: str) -> User | None:
    """The active user behind a key, or None."""
    found = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=_digest(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    return found.user if found else None
