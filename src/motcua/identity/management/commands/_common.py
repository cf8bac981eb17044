"""What the identity commands share: domain errors become a message and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.management.base import CommandError

from motcua.core.errors import DomainError

T = TypeVar("T")


def or_command_error(call: Callable[[], T]) -> T:
    try:
        return call()
    except DomainError as error:
        fields = "; ".join(f"{k}: {v}" for k, v in error.errors.items())
        raise CommandError(f"{error.message}{' — ' + fields if fields else ''}") from None


def as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
