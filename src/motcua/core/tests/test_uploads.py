"""Uploads are judged by content: PDF, JPEG and PNG that parse whole; everything else is refused."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import (
    SimpleUploadedFile,
    TemporaryUploadedFile,
    UploadedFile,
)
from fpdf import FPDF
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from motcua.core import uploads
from motcua.core.errors import ValidationFailed
from motcua.core.uploads import (
    CheckedFile,
    bytes_store,
    display_name,
    private_file_response,
    upload_check,
    upload_store,
)

Upload = Callable[[str, bytes], UploadedFile]


def _simple(name: str, data: bytes) -> UploadedFile:
    # The browser's content type is a lie on purpose: it must never matter.
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _temporary(name: str, data: bytes) -> UploadedFile:
    upload = TemporaryUploadedFile(name, "application/pdf", len(data), None)
    upload.write(data)
    upload.seek(0)
    return upload


UPLOADS = pytest.mark.parametrize("make_upload", [_simple, _temporary], ids=["memory", "tempfile"])


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica")
    pdf.cell(text="Giay khai sinh")
    return bytes(pdf.output())


def _pdf_rewritten(change: Callable[[PdfWriter], object]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf()))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action_script(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('pwned')"),
        }
    )


def _no_pages() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def _image(kind: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 0).save(out, format=kind)
    return out.getvalue()


def _multi_picture_jpeg() -> bytes:
    """What many phone cameras write: a JPEG with a second image (MPO), still image/jpeg."""
    out = io.BytesIO()
    first, second = Image.new("RGB", (40, 30), "teal"), Image.new("RGB", (40, 30), "navy")
    first.save(out, format="MPO", save_all=True, append_images=[second])
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("giay-to.pdf", _pdf())
    return out.getvalue()


def _png_with_bad_checksum() -> bytes:
    png = bytearray(_image("PNG"))
    png[29] ^= 0xFF  # inside the IHDR chunk's CRC
    return bytes(png)


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    return tmp_path


@UPLOADS
@pytest.mark.parametrize(
    ("name", "make_data", "kind", "content_type", "extension"),
    [
        ("giay-khai-sinh.pdf", _pdf, "pdf", "application/pdf", ".pdf"),
        ("anh-cccd.jpeg", lambda: _image("JPEG"), "jpeg", "image/jpeg", ".jpg"),
        ("so-ho-khau.png", lambda: _image("PNG"), "png", "image/png", ".png"),
        ("IMG_0001.JPG", _multi_picture_jpeg, "jpeg", "image/jpeg", ".jpg"),
    ],
)
def test_pdf_jpeg_and_png_are_accepted(
    make_upload: Upload,
    name: str,
    make_data: Callable[[], bytes],
    kind: str,
    content_type: str,
    extension: str,
) -> None:
    data = make_data()
    checked = upload_check(make_upload(name, data), field="paper")
    assert checked == CheckedFile(
        kind=kind,  # type: ignore[arg-type]
        content_type=content_type,
        extension=extension,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=name,
    )


@UPLOADS
def test_the_content_wins_over_the_name_and_the_browser(make_upload: Upload) -> None:
    checked = upload_check(make_upload("scan.pdf", _image("PNG")), field="paper")
    assert (checked.kind, checked.content_type, checked.extension) == ("png", "image/png", ".png")
    assert checked.original_name == "scan.pdf"


@UPLOADS
@pytest.mark.parametrize(
    ("name", "make_data", "message"),
    [
        ("empty.pdf", lambda: b"", uploads.EMPTY),
        ("page.pdf", lambda: b"<!doctype html><script>alert(1)</script>", uploads.NOT_ACCEPTED),
        ("setup.pdf", lambda: b"MZ\x90\x00" + b"\x00" * 200, uploads.NOT_ACCEPTED),
        ("papers.pdf", _zip, uploads.NOT_ACCEPTED),
        ("photo.gif", lambda: _image("GIF", mode="P"), uploads.NOT_ACCEPTED),
        ("cut.pdf", lambda: _pdf()[:-300], uploads.PDF_DAMAGED),
        ("polyglot.pdf", lambda: b"%PDF-1.7\n<html><script>x</script></html>", uploads.PDF_DAMAGED),
        ("blank.pdf", _no_pages, uploads.PDF_NO_PAGES),
        (
            "locked.pdf",
            lambda: _pdf_rewritten(lambda w: w.encrypt("", "owner")),
            uploads.PDF_ENCRYPTED,
        ),
        ("script.pdf", lambda: _pdf_rewritten(_open_action_script), uploads.PDF_ACTIVE),
        (
            "attached.pdf",
            lambda: _pdf_rewritten(lambda w: w.add_attachment("run.exe", b"MZ")),
            uploads.PDF_ACTIVE,
        ),
        ("cut.jpg", lambda: _image("JPEG")[:-200], uploads.IMAGE_DAMAGED),
        ("crc.png", _png_with_bad_checksum, uploads.IMAGE_DAMAGED),
        ("huge.png", lambda: _image("PNG", (8000, 6000), mode="1"), uploads.TOO_MANY_PIXELS),
    ],
)
def test_bad_files_are_refused_on_the_field(
    make_upload: Upload, name: str, make_data: Callable[[], bytes], message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        upload_check(make_upload(name, make_data()), field="paper")
    assert refused.value.errors == {"paper": message}


@UPLOADS
def test_oversize_is_refused_with_the_limit_in_megabytes(make_upload: Upload) -> None:
    half_megabyte = 2**19
    data = _pdf().ljust(half_megabyte + 1, b"\n")
    with pytest.raises(ValidationFailed) as refused:
        upload_check(make_upload("big.pdf", data), field="paper", max_bytes=half_megabyte)
    assert refused.value.errors == {"paper": "Tệp vượt quá 0.5 MB"}
    assert upload_check(make_upload("ok.pdf", data[:half_megabyte]), field="paper").size == 2**19


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\Users\\An\\Giấy khai sinh.pdf", "Giấy khai sinh.pdf"),
        ("bao\x00cao\r\n.pdf", "baocao.pdf"),
        ("hoa-don\u202efdp.exe", "hoa-donfdp.exe"),  # the right-to-left override is gone
        ("Nguye\u0302\u0303n.pdf", "Nguyễn.pdf"),  # decomposed (macOS) to composed
        ("a" * 300 + ".pdf", "a" * 120),
        ("", ""),
        (None, ""),
    ],
)
def test_client_names_are_sanitised(raw: str | None, shown: str) -> None:
    assert display_name(raw) == shown


@given(st.text())
def test_a_shown_name_never_holds_a_separator_or_control_character(raw: str) -> None:
    shown = display_name(raw)
    assert "/" not in shown and "\\" not in shown
    assert all(unicodedata.category(ch)[0] != "C" for ch in shown)
    assert len(shown) <= 120
    assert unicodedata.is_normalized("NFC", shown)


def test_a_nameless_upload_gets_a_name_to_show() -> None:
    assert (
        upload_check(_simple("\u202e\x07", _pdf()), field="paper").original_name
        == "tep-tai-len.pdf"
    )


@UPLOADS
def test_upload_store_writes_under_a_generated_name(
    make_upload: Upload, private_root: Path
) -> None:
    data = _pdf()
    upload = make_upload("../../Nguyễn Văn An.pdf", data)
    name = upload_store(upload, upload_check(upload, field="paper"), folder="dossiers")
    assert re.fullmatch(r"dossiers/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", name)
    assert (private_root / name).read_bytes() == data
    assert [p.name for p in private_root.rglob("*") if p.is_file()] == [Path(name).name]
    # Copied, not moved: the request still owns its temporary file.
    upload.seek(0)
    assert upload.read() == data


def test_bytes_store_keeps_generated_documents(private_root: Path) -> None:
    name = bytes_store(b"%PDF-receipt", folder="receipts", extension=".pdf")
    assert re.fullmatch(r"receipts/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", name)
    assert (private_root / name).read_bytes() == b"%PDF-receipt"


# Closing the response sends request_finished, whose handler looks at the database connection
# a previous test may have left open.
@pytest.mark.django_db
@pytest.mark.parametrize("inline", [False, True])
def test_private_files_are_served_so_that_nothing_in_them_runs(inline: bool) -> None:
    data = _pdf()
    name = bytes_store(data, folder="receipts", extension=".pdf")
    download = "Giấy tiếp nhận hồ sơ.pdf"
    response = private_file_response(
        name, download_name=download, content_type="application/pdf", inline=inline
    )
    try:
        disposition = "inline" if inline else "attachment"
        assert (
            response["Content-Disposition"] == f"{disposition}; filename*=utf-8''{quote(download)}"
        )
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content) == data  # type: ignore[arg-type]
    finally:
        response.close()
