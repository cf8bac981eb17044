"""Printed documents: Vietnamese survives the round trip, the output is stable, the font is required."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from motcua.core.documents import Document, document_pdf
from motcua.core.uploads import upload_check

NAMES = ["Nguyễn Thị Ánh Tuyết", "Đồng Tháp", "Hồ Chí Minh", "Huỳnh", "Thừa Thiên Huế"]
GENERATED = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
RECEIPT = Document(
    authority="UỶ BAN NHÂN DÂN PHƯỜNG THUẬN HOÁ",
    title="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
    reference="Mã hồ sơ: 000.00.31.H29-261123-0001",
    rows=[
        ("Người nộp", "Nguyễn Thị Ánh Tuyết"),
        ("Quê quán", "Huỳnh, Đồng Tháp"),
        ("Nơi ở", "Hồ Chí Minh; trước đây ở Thừa Thiên Huế. " * 4),  # wraps over lines
        ("Ngày hẹn trả", "30/11/2026"),
    ],
    paragraphs=["Khi đến nhận kết quả, mang theo giấy này và thẻ căn cước."],
    footer="Tra cứu hồ sơ tại https://dichvucong.example.vn/tra-cuu",
)


def _text(pdf: bytes) -> str:
    """All the text, NFC, with line breaks and runs of spaces made single spaces."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(page.extract_text() for page in pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_vietnamese_prints_exactly_and_the_form_is_complete() -> None:
    text = _text(document_pdf(RECEIPT, generated_at=GENERATED))
    for expected in [
        *NAMES,
        "UỶ BAN NHÂN DÂN PHƯỜNG THUẬN HOÁ",
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        RECEIPT.title,
        RECEIPT.reference,
        "Người nộp Nguyễn Thị Ánh Tuyết",
        RECEIPT.paragraphs[0],
        RECEIPT.footer,
        "Tạo lúc 09:30 ngày 23/11/2026",  # Vietnam time
        "Trang 1/1",
    ]:
        assert expected in text


def test_decomposed_input_prints_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    document = Document(authority="UBND", title="PHIẾU", reference="Mã", rows=[("Tên", decomposed)])
    assert "Nguyễn Thị Ánh Tuyết" in _text(document_pdf(document, generated_at=GENERATED))


def test_metadata_and_output_are_stable() -> None:
    pdf = document_pdf(RECEIPT, generated_at=GENERATED)
    assert pdf == document_pdf(RECEIPT, generated_at=GENERATED)
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.title == RECEIPT.title
    assert metadata.creation_date == GENERATED


def test_long_documents_run_onto_more_pages_with_the_footer_on_each() -> None:
    rows = [(f"Giấy tờ {n}", "Bản sao có chứng thực giấy khai sinh") for n in range(60)]
    document = Document(authority="UBND", title="PHIẾU", reference="Mã", rows=rows)
    pages = PdfReader(io.BytesIO(document_pdf(document, generated_at=GENERATED))).pages
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"Trang {number}/{len(pages)}" in page.extract_text()


def test_a_printed_document_passes_the_upload_check() -> None:
    pdf = document_pdf(RECEIPT, generated_at=GENERATED)
    assert upload_check(SimpleUploadedFile("bien-nhan.pdf", pdf), field="paper").kind == "pdf"


@pytest.mark.parametrize("setting", ["PDF_FONT", "PDF_FONT_BOLD"])
def test_a_missing_font_names_the_setting_and_the_package(
    setting: str, settings: Any, tmp_path: Path
) -> None:
    setattr(settings, setting, str(tmp_path / "missing.ttf"))
    with pytest.raises(ImproperlyConfigured, match=f"{setting} .*fonts-dejavu-core"):
        document_pdf(RECEIPT)
