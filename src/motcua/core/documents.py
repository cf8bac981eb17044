"""Simple official documents printed as PDF: dossier receipts, apology and new-appointment slips.

The layout follows a Vietnamese administrative form: the issuing authority top left, the national
motto top right, a centred title, then the content. The font comes from settings (PDF_FONT,
PDF_FONT_BOLD): the PDF core fonts have no Vietnamese glyphs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

FAMILY = "motcua"
COUNTRY = "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"

# Millimetres on A4 (210 wide); margins after Decree 30/2020 on administrative documents.
LEFT, RIGHT, TOP, BOTTOM = 30, 15, 20, 22
WIDTH = 210 - LEFT - RIGHT
AUTHORITY_WIDTH = 65
LABEL_WIDTH = 60
LINE = 6


@dataclass(frozen=True)
class Document:
    authority: str  # e.g. "UỶ BAN NHÂN DÂN PHƯỜNG X" (top left, upper case)
    title: str  # e.g. "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
    reference: str  # e.g. "Mã hồ sơ: 000.00.31.H29-261123-0001"
    rows: list[tuple[str, str]]  # label, value
    paragraphs: list[str] = field(default_factory=list)  # free text after the rows
    footer: str = ""  # e.g. "Tra cứu hồ sơ tại https://..."


def document_pdf(document: Document, *, generated_at: datetime | None = None) -> bytes:
    """The document as PDF bytes; the same document and generated_at give the same bytes."""
    when = generated_at or timezone.now()
    pdf = _Form(footer=_footer_text(document.footer, when))
    pdf.add_font(FAMILY, "", _font_path("PDF_FONT"))
    pdf.add_font(FAMILY, "B", _font_path("PDF_FONT_BOLD"))
    pdf.set_creation_date(when)
    pdf.set_title(_nfc(document.title))
    pdf.set_subject(_nfc(document.reference))
    pdf.set_creator("Motcua")
    pdf.set_lang("vi")
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM)
    pdf.add_page()
    _header(pdf, _nfc(document.authority))
    _title(pdf, _nfc(document.title), _nfc(document.reference))
    _rows(pdf, [(_nfc(label), _nfc(value)) for label, value in document.rows])
    _paragraphs(pdf, [_nfc(paragraph) for paragraph in document.paragraphs])
    return bytes(pdf.output())


class _Form(FPDF):
    def __init__(self, *, footer: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer

    def footer(self) -> None:  # fpdf2 calls it at the end of every page
        self.set_y(-BOTTOM + 4)
        self.set_font(FAMILY, "", 8)
        _lines(self, f"{self.footer_text}\nTrang {self.page_no()}/{{nb}}", h=4, align="C")


def _header(pdf: FPDF, authority: str) -> None:
    top = pdf.y
    pdf.set_font(FAMILY, "B", 10.5)
    _lines(pdf, authority, w=AUTHORITY_WIDTH, h=5, align="C")
    _rule(pdf, LEFT, AUTHORITY_WIDTH, 20)
    left_bottom = pdf.y
    pdf.set_xy(LEFT + AUTHORITY_WIDTH, top)
    motto_width = WIDTH - AUTHORITY_WIDTH
    _lines(pdf, COUNTRY, w=motto_width, h=5, align="C")
    pdf.set_x(LEFT + AUTHORITY_WIDTH)
    pdf.set_font(FAMILY, "B", 11)
    _lines(pdf, MOTTO, w=motto_width, h=5, align="C")
    _rule(pdf, LEFT + AUTHORITY_WIDTH, motto_width, pdf.get_string_width(MOTTO))
    pdf.set_y(max(left_bottom, pdf.y) + 8)


def _lines(pdf: FPDF, text: str, *, w: float = 0, h: float = LINE, align: str = "L") -> None:
    """Wrapped text, leaving the cursor at the start of the next line (not right of the text)."""
    pdf.multi_cell(w=w, h=h, text=text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _rule(pdf: FPDF, x: float, column: float, length: float) -> None:
    """The short line under a header block, centred in its column."""
    start = x + (column - length) / 2
    pdf.line(start, pdf.y + 1.5, start + length, pdf.y + 1.5)
    pdf.set_y(pdf.y + 3)


def _title(pdf: FPDF, title: str, reference: str) -> None:
    pdf.set_font(FAMILY, "B", 13)
    _lines(pdf, title, h=7, align="C")
    pdf.set_font(FAMILY, "", 11)
    _lines(pdf, reference, align="C")
    pdf.ln(4)


def _rows(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    if not rows:
        return
    pdf.set_font(FAMILY, "", 11)
    with pdf.table(
        width=WIDTH,
        align="LEFT",  # from the left margin, not centred on the page
        col_widths=(LABEL_WIDTH, WIDTH - LABEL_WIDTH),
        first_row_as_headings=False,
        text_align="LEFT",
        line_height=LINE,
        padding=1.5,
    ) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(value)
    pdf.ln(4)


def _paragraphs(pdf: FPDF, paragraphs: list[str]) -> None:
    pdf.set_font(FAMILY, "", 11)
    for paragraph in paragraphs:
        _lines(pdf, paragraph)
        pdf.ln(2)


def _footer_text(footer: str, when: datetime) -> str:
    local = timezone.localtime(when)
    generated = f"Tạo lúc {local:%H:%M} ngày {local:%d/%m/%Y}"
    return f"{_nfc(footer)} · {generated}" if footer else generated


def _font_path(setting: str) -> str:
    path: str = getattr(settings, setting)
    if not Path(path).is_file():
        raise ImproperlyConfigured(
            f"{setting} ({path}) is not a font file: install the Debian package "
            f"fonts-dejavu-core (make setup) or set MOTCUA_{setting} to a TrueType font "
            "with Vietnamese glyphs."
        )
    return path


def _nfc(text: str) -> str:
    # Decomposed input (e.g. typed on macOS) would print as loose accents: the PDF is not shaped.
    return unicodedata.normalize("NFC", text)
