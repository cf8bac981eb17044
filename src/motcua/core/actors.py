"""Who is acting: every service takes an Actor and checks its permissions itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.translation import gettext as _

from motcua.core.errors import PermissionDenied

ActorKind = Literal["official", "citizen", "partner", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    ref: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    pin: str | None = None  # the actor's own PIN when the actor is a person in the registry

    def can(self, permission: str) -> bool:
        return self.kind == "system" or permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(_("Không có quyền: %(permission)s") % {"permission": permission})

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.ref}"

    @classmethod
    def from_user(cls, user: Any) -> Actor:
        """A staff user of Django's auth (session login, admin)."""
        return cls(
            kind="official", ref=user.username, permissions=frozenset(user.get_all_permissions())
        )


SYSTEM = Actor(kind="system", ref="motcua")
