"""Bearer API keys for staff tools and partner systems. Keys are shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import connection

from motcua.core.actors import Actor
from motcua.core.models import ApiKey


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def apikey_create(*, name: str, user: User) -> str:
    key = "mck_" + secrets.token_urlsafe(32)
    ApiKey.objects.create(name=name, user=user, key_hash=_digest(key))
    return key


# The key's user and every permission it holds (directly, through its groups, or all of them as
# a superuser) in one round trip: each API call authenticates, so this is a hot path.
_ACTOR_SQL = """
SELECT u.username,
       ARRAY(SELECT ct.app_label || '.' || p.codename
               FROM auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
              WHERE u.is_superuser
                 OR p.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = u.id
                             UNION
                             SELECT gp.permission_id FROM auth_group_permissions gp
                               JOIN auth_user_groups ug ON ug.group_id = gp.group_id
                              WHERE ug.user_id = u.id))
  FROM core_apikey k JOIN auth_user u ON u.id = k.user_id
 WHERE k.key_hash = %s AND k.revoked_at IS NULL AND u.is_active
"""


def apikey_actor(key: str) -> Actor | None:
    """The official acting through an active key of an active user, or None."""
    with connection.cursor() as cursor:
        cursor.execute(_ACTOR_SQL, [_digest(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    username, permissions = row
    return Actor(kind="official", ref=username, permissions=frozenset(permissions))
