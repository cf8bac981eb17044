"""Bearer API keys for staff tools and partner systems. Keys are shown once, stored hashed.

A key acts with its user's permissions, but only on the API operations its scopes name and only
until it expires (90 days by default, a year at most). An operation's scope is its section of
the API (the router: `registry`, ...) and whether it reads or writes: `registry:read`. An
unknown, revoked or expired key authenticates no one (401); a key without the operation's scope
is refused (403)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.core.actors import Actor
from motcua.core.errors import PermissionDenied, ValidationFailed
from motcua.core.models import ApiKey

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# One scope per section of the API and kind of operation that a key may call. A new section of
# the API adds its scopes here (test_apikeys checks every operation's scope is listed).
API_SCOPES: dict[str, StrOrPromise] = {
    "registry:read": gettext_lazy("Đọc cơ sở dữ liệu dân cư"),
}
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=365)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def operation_scope(*, section: str, method: str) -> str:
    """The scope an API operation needs: `<section>:read` for GET/HEAD, else `<section>:write`."""
    return f"{section}:{'read' if method.upper() in _SAFE_METHODS else 'write'}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def apikey_create(
    *,
    name: str,
    user: User,
    scopes: Iterable[str] | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> str:
    """A new key (returned once). Without `scopes`, every read scope; `lifetime` up to a year."""
    chosen = sorted(
        set(scopes) if scopes is not None else {s for s in API_SCOPES if s.endswith(":read")}
    )
    errors: dict[str, str] = {}
    if unknown := [s for s in chosen if s not in API_SCOPES]:
        errors["scopes"] = _("Phạm vi không tồn tại: %(join)s") % {"join": ", ".join(unknown)}
    elif not chosen:
        errors["scopes"] = _("Cần ít nhất một phạm vi")
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        errors["lifetime"] = _("Thời hạn từ 1 giây đến 1 năm")
    if errors:
        raise ValidationFailed(errors)
    key = "mck_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(
        name=name,
        user=user,
        key_hash=_digest(key),
        scopes=chosen,
        expires_at=timezone.now() + lifetime,
    )
    return key


# The key's user, its scopes and every permission the user holds (directly, through its groups,
# or all of them as a superuser) in one round trip: each API call authenticates, so this is a hot
# path. Expired keys are left out here, by the database's clock.
_ACTOR_SQL = """
SELECT u.username, k.scopes,
       ARRAY(SELECT ct.app_label || '.' || p.codename
               FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
              WHERE u.is_superuser
                 OR p.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = u.id
                             UNION
                             SELECT gp.permission_id FROM auth_group_permissions gp
                               JOIN auth_user_groups ug ON ug.group_id = gp.group_id
                              WHERE ug.user_id = u.id))
  FROM core_apikey k JOIN auth_user u ON u.id = k.user_id
 WHERE k.key_hash = %s AND k.revoked_at IS NULL AND k.expires_at > now() AND u.is_active
"""


def apikey_actor(key: str, *, scope: str | None = None) -> Actor | None:
    """The official acting through an active, unexpired key of an active user, or None.

    With `scope` (the operation's), a key that does not hold it raises PermissionDenied."""
    with connection.cursor() as cursor:
        cursor.execute(_ACTOR_SQL, [_digest(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    username, scopes, permissions = row
    if scope is not None and scope not in scopes:
        raise PermissionDenied(_("Khoá API không có phạm vi: %(scope)s") % {"scope": scope})
    return Actor(kind="official", ref=username, permissions=frozenset(permissions))
