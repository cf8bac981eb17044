"""Portrait uploads: JPEG or PNG by content (not by name), bounded in bytes and pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from motcua.core.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
_FORMATS = {"JPEG": "jpg", "PNG": "png"}


@dataclass(frozen=True)
class Portrait:
    data: bytes
    extension: str


def portrait_checked(data: bytes) -> Portrait:
    def refuse(why: str) -> ValidationFailed:
        return ValidationFailed({"portrait": why})

    if len(data) > MAX_BYTES:
        raise refuse("Ảnh quá 5 MB / the photo is over 5 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in _FORMATS:
                raise refuse("Chỉ nhận ảnh JPEG hoặc PNG / JPEG or PNG only")
            if image.width * image.height > MAX_PIXELS:
                raise refuse("Ảnh quá lớn / the photo has too many pixels")
            image.load()  # decodes every pixel: a truncated or damaged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise refuse("Tệp không phải ảnh hợp lệ / not a valid image") from None
    return Portrait(data=data, extension=_FORMATS[kind])
