"""Portrait uploads: JPEG or PNG by content (not by name), bounded in bytes and pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Protocol

from django.utils.translation import gettext as _

from motcua.core.errors import ValidationFailed
from motcua.core.uploads import image_check

MAX_BYTES = 5 * 1024 * 1024
_EXTENSIONS = {"jpeg": "jpg", "png": "png"}


@dataclass(frozen=True)
class Portrait:
    data: bytes
    extension: str


class PortraitUpload(Protocol):
    """An uploaded file as Django gives it: its size is known before a byte is read."""

    size: int | None

    def open(self, mode: str = ...) -> IO[bytes]: ...


def portrait_checked(upload: PortraitUpload) -> Portrait:
    """The size is checked before the file is read, so an oversized upload costs no memory."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationFailed({"portrait": _("Ảnh chân dung phải nhỏ hơn 5 MB")})
    with upload.open("rb") as stream:
        kind = image_check(stream, field="portrait")
        stream.seek(0)
        data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"portrait": _("Ảnh chân dung phải nhỏ hơn 5 MB")})
    return Portrait(data=data, extension=_EXTENSIONS[kind])
