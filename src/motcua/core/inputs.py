"""One input rule for every request, page or API: text holds no NUL or other control character
(tab and line breaks excepted) and no value is longer than the platform ever stores. PostgreSQL
refuses NUL in text, so before this rule a NUL anywhere reached the database as a 500.

`InputGuardMiddleware` (core.middleware) applies it to path, query, form and JSON values;
schemas narrow it field by field (`max_length`, `SingleLine`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator

# C0 controls and DEL, except tab, line feed and carriage return (text areas send CR LF).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\t\n\r]")

NUL_MESSAGE = gettext_lazy("Có ký tự NUL không hợp lệ")
CONTROL_MESSAGE = gettext_lazy("Có ký tự điều khiển không hợp lệ")
LINE_MESSAGE = gettext_lazy("Không được xuống dòng")
DEFAULT_MAX_CHARS = 20_000


def max_chars() -> int:
    """The longest single value any request may carry (a text area's worth)."""
    return int(getattr(settings, "INPUT_MAX_CHARS", DEFAULT_MAX_CHARS))


def too_long_message(limit: int) -> str:
    return _("Dài quá %(limit)s ký tự") % {"limit": limit}


def text_problem(value: str, *, limit: int | None = None, single_line: bool = False) -> str | None:
    """What is wrong with one text value, or None."""
    if _CONTROL.search(value):
        return str(NUL_MESSAGE if "\x00" in value else CONTROL_MESSAGE)
    if single_line and _LINE_BREAK.search(value):
        return str(LINE_MESSAGE)
    limit = max_chars() if limit is None else limit
    if len(value) > limit:
        return too_long_message(limit)
    return None


def _walk(name: str, value: Any) -> Iterator[tuple[str, str]]:
    """Every text in a value, keys included, by dotted path (iterative: JSON nests deep)."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                key = str(key)
                child = f"{path}.{key}" if path else key
                stack += [(child, inner), (child, key)]
        elif isinstance(item, list):
            for index in reversed(range(len(item))):
                stack.append((f"{path}.{index}" if path else str(index), item[index]))


def problems(values: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Field → what is wrong, for (name, value) pairs; nested JSON values by dotted path."""
    found: dict[str, str] = {}
    limit = max_chars()
    for name, value in values:
        for path, text in _walk(name, value):
            field = path or "body"
            if field not in found and (problem := text_problem(text, limit=limit)) is not None:
                found[field] = problem
    return found


def _single_line(value: str) -> str:
    # Length is the field's max_length (and the middleware's ceiling), not this check's.
    if (problem := text_problem(value, single_line=True, limit=len(value))) is not None:
        raise ValueError(problem)
    return value


# A schema field that is one line of text (names, codes, purposes): `name: SingleLine`.
SingleLine = Annotated[str, AfterValidator(_single_line)]
