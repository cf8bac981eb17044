"""Portrait uploads: JPEG or PNG by content (not by name), bounded in bytes and pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

from motcua.core.errors import ValidationFailed
from motcua.core.uploads import image_check

MAX_BYTES = 5 * 1024 * 1024
_EXTENSIONS = {"jpeg": "jpg", "png": "png"}


@dataclass(frozen=True)
class Portrait:
    data: bytes
    extension: str


def portrait_checked(data: bytes) -> Portrait:
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"portrait": "Ảnh quá 5 MB / the photo is over 5 MB"})
    kind = image_check(io.BytesIO(data), field="portrait")
    return Portrait(data=data, extension=_EXTENSIONS[kind])
