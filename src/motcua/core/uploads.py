"""Uploaded papers: PDF, JPEG or PNG by content (never by name or the browser's content type),
bounded in size, kept in the private storage and served back without ever running on our origin.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject

from motcua.core.errors import ValidationFailed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


Kind = Literal["pdf", "jpeg", "png"]
ImageKind = Literal["jpeg", "png"]

MAX_PIXELS = 40_000_000
NAME_MAX = 120

_MAGIC: tuple[tuple[bytes, Kind], ...] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)
_HEAD = max(len(magic) for magic, _ in _MAGIC)
_TYPES: dict[Kind, tuple[str, str]] = {
    "pdf": ("application/pdf", ".pdf"),
    "jpeg": ("image/jpeg", ".jpg"),
    "png": ("image/png", ".png"),
}
_PILLOW_FORMATS: dict[ImageKind, str] = {"jpeg": "JPEG", "png": "PNG"}

# What a PDF viewer could run or hand to the operating system. Keys: /JS holds an action's
# script, /JavaScript and /EmbeddedFiles name trees, /EF a file specification's embedded file,
# /XFA a dynamic form (XML that carries its own scripts, which we cannot inspect cheaply).
_ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA"})
_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"})
_ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment", "/RichMedia"})

EMPTY = gettext_lazy("Tệp rỗng")
TOO_LARGE = gettext_lazy("Tệp vượt quá {mb} MB")
NOT_ACCEPTED = gettext_lazy("Chỉ nhận tệp PDF, JPEG hoặc PNG")
IMAGE_ONLY = gettext_lazy("Chỉ nhận ảnh JPEG hoặc PNG")
TOO_MANY_PIXELS = (
    f"Ảnh quá lớn (quá {MAX_PIXELS // 1_000_000} triệu điểm ảnh) / "
    f"the image has over {MAX_PIXELS // 1_000_000} million pixels"
)
IMAGE_DAMAGED = gettext_lazy("Tệp không phải ảnh hợp lệ")
PDF_DAMAGED = gettext_lazy("Tệp PDF bị hỏng, không đọc được")
PDF_NO_PAGES = gettext_lazy("Tệp PDF không có trang nào")
PDF_ENCRYPTED = gettext_lazy("Tệp PDF có mật khẩu hoặc bị mã hoá; hãy gửi bản không khoá")
PDF_ACTIVE = gettext_lazy("Tệp PDF chứa mã lệnh hoặc tệp đính kèm, không được chấp nhận")


@dataclass(frozen=True)
class CheckedFile:
    kind: Kind
    content_type: str
    extension: str
    size: int
    sha256: str
    # The client's name, sanitised: only ever shown, never used as a path.
    original_name: str


def upload_check(upload: UploadedFile, *, field: str, max_bytes: int | None = None) -> CheckedFile:
    """The upload if it is a readable PDF, JPEG or PNG within the size limit.

    Raises ValidationFailed({field: message}) for an empty, oversized, disguised, damaged or
    encrypted file, and for a PDF that carries scripts or attachments.
    """

    def refuse(why: StrOrPromise) -> ValidationFailed:
        return ValidationFailed({field: why})

    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    size, sha256 = _size_and_sha256(upload, limit)
    if size == 0:
        raise refuse(EMPTY)
    if size > limit:
        raise refuse(TOO_LARGE.format(mb=_megabytes(limit)))
    upload.seek(0)
    kind = kind_sniffed(upload.read(_HEAD))
    if kind is None:
        raise refuse(NOT_ACCEPTED)
    problem = _pdf_problem(upload) if kind == "pdf" else _image_problem(upload, kind)
    if problem:
        raise refuse(problem)
    content_type, extension = _TYPES[kind]
    return CheckedFile(
        kind=kind,
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=sha256,
        original_name=display_name(upload.name) or f"tep-tai-len{extension}",
    )


def image_check(stream: IO[bytes], *, field: str) -> ImageKind:
    """JPEG or PNG by content, within MAX_PIXELS, every pixel decodable; else ValidationFailed."""
    stream.seek(0)
    kind = kind_sniffed(stream.read(_HEAD))
    if kind != "jpeg" and kind != "png":
        raise ValidationFailed({field: IMAGE_ONLY})
    problem = _image_problem(stream, kind)
    if problem:
        raise ValidationFailed({field: problem})
    return kind


def kind_sniffed(head: bytes) -> Kind | None:
    """The kind the first bytes announce; the parsers then prove the rest of the file."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def display_name(raw: str | None) -> str:
    """The client's file name fit to show: basename, NFC, no control or separator characters."""
    base = re.split(r"[/\\]", raw or "")[-1]
    # Categories C* (controls, format characters such as the right-to-left override that
    # disguises "exe.pdf", unassigned) and the line and paragraph separators.
    kept = "".join(
        ch for ch in base if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029"
    )
    return unicodedata.normalize("NFC", kept).strip()[:NAME_MAX]


def upload_store(upload: UploadedFile, checked: CheckedFile, *, folder: str) -> str:
    """Save a checked upload in the private storage under a generated name, and return it."""
    # A plain File is copied in chunks; given the upload itself, FileSystemStorage would move a
    # temporary upload's file away from under the request that still owns it.
    return private_storage().save(_generated_name(folder, checked.extension), File(upload.file))


def bytes_store(content: bytes, *, folder: str, extension: str) -> str:
    """Save a file Motcua generated itself (a receipt) in the private storage; return its name."""
    return private_storage().save(_generated_name(folder, extension), ContentFile(content))


def private_file_response(
    name: str, *, download_name: str, content_type: str, inline: bool = False
) -> FileResponse:
    """Serve a file from the private storage.

    Checks nothing: the caller has already decided that the requester may read this file.
    The headers keep the browser from guessing the type, caching it or running anything in it.
    """
    response = FileResponse(
        private_storage().open(name, "rb"),
        as_attachment=not inline,
        filename=download_name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def private_storage() -> Storage:
    return storages["private"]


def _size_and_sha256(upload: UploadedFile, limit: int) -> tuple[int, str]:
    """Byte count and digest, read in chunks; stops reading once past the limit."""
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    return size, digest.hexdigest()


def _megabytes(n: int) -> str:
    return f"{n / 2**20:.1f}".removesuffix(".0")


def _generated_name(folder: str, extension: str) -> str:
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{extension}"


def _pdf_problem(stream: IO[bytes]) -> str | None:
    stream.seek(0)
    try:
        # strict: no silent repair of a broken cross-reference table or trailer.
        reader = PdfReader(stream, strict=True)
        if reader.is_encrypted:
            return str(PDF_ENCRYPTED)
        if len(reader.pages) == 0:
            return str(PDF_NO_PAGES)
        if any(_is_active(d) for d in _reachable_dictionaries(reader.trailer.raw_get("/Root"))):
            return str(PDF_ACTIVE)
    except Exception:  # pypdf raises many types (PdfReadError, ValueError, KeyError, ...)
        return str(PDF_DAMAGED)
    return None


def _reachable_dictionaries(root: PdfObject) -> Iterator[DictionaryObject]:
    """Every dictionary reachable from the catalog (pages, annotations, names, actions, forms).

    Iterative and keyed on object numbers, so that cycles (/Parent links) and deep nesting in a
    hostile file end. Streams are dictionaries too; their data is never decoded.
    """
    seen: set[tuple[int, int]] = set()
    pending: list[PdfObject | None] = [root]
    while pending:
        obj = pending.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            yield obj
            pending.extend(dict.values(obj))  # unresolved, so that references stay visible
        elif isinstance(obj, ArrayObject):
            pending.extend(obj)


def _is_active(d: DictionaryObject) -> bool:
    return (
        not _ACTIVE_KEYS.isdisjoint(d.keys())
        or _name(d, "/S") in _ACTIVE_ACTIONS
        or _name(d, "/Type") in _ACTIVE_TYPES
        or _name(d, "/Subtype") in _ACTIVE_TYPES
    )


def _name(d: DictionaryObject, key: str) -> str | None:
    value = d.get(key)
    resolved = value.get_object() if isinstance(value, PdfObject) else None
    return resolved if isinstance(resolved, NameObject) else None


def _image_problem(stream: IO[bytes], kind: ImageKind) -> str | None:
    # Only the one decoder the magic bytes named: none of Pillow's rarer decoders sees the file.
    formats = [_PILLOW_FORMATS[kind]]
    try:
        stream.seek(0)
        with Image.open(stream, formats=formats) as image:
            if image.width * image.height > MAX_PIXELS:
                return TOO_MANY_PIXELS.format(millions=MAX_PIXELS // 1_000_000)
            image.verify()  # structure and checksums (PNG chunk CRCs)
        stream.seek(0)
        with Image.open(stream, formats=formats) as image:
            image.load()  # decodes every pixel: a truncated or damaged file fails here
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, DecompressionBombError...
        return str(IMAGE_DAMAGED)
    return None
