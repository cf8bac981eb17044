"""The papers Motcua prints for a dossier: the receipt with the appointment, the apology and
new-appointment slip, and the result notice. Rendered on demand from the stored dossier, so a
reprint always says what the records say."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from motcua.core.documents import Document, document_pdf

if TYPE_CHECKING:  # services puts the papers on the app's face; selectors imports services
    from motcua.dossiers.selectors import DossierDetail


def _date(value: object) -> str:
    return f"{value:%d/%m/%Y}"


def _fee(detail: DossierDetail) -> str:
    if detail.fee_exemption:
        return f"Miễn ({detail.fee_exemption})"
    return f"{detail.fee:,} đồng".replace(",", ".") if detail.fee else "Không thu"


def _footer(detail: DossierDetail) -> str:
    return _("Tra cứu hồ sơ: %(url)s") % {"url": f"{settings.PUBLIC_URL}/ho-so/{detail.row.id}/"}


def receipt_pdf(detail: DossierDetail) -> bytes:
    """Giấy tiếp nhận hồ sơ và hẹn trả kết quả."""
    row = detail.row
    held = [p.component.name for p in detail.papers if p.held_by]
    uploaded = [f"{f.original_name} ({f.component})" for f in detail.files]
    return document_pdf(
        Document(
            authority=detail.agency_name.upper(),
            title="GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
            reference=f"Mã hồ sơ: {row.code}",
            rows=[
                ("Thủ tục", f"{detail.procedure.name} ({detail.procedure.code})"),
                ("Người nộp", f"{row.applicant_name}"),
                ("Hình thức nộp", "Trực tuyến"),
                ("Thời điểm nộp", f"{row.submitted_at.astimezone():%H:%M %d/%m/%Y}"),
                ("Thời hạn giải quyết", f"{detail.procedure.days} ngày làm việc"),
                ("Ngày hẹn trả kết quả", _date(row.due_on)),
                ("Lệ phí", _fee(detail)),
                ("Giấy tờ đã nộp", "; ".join(uploaded) or "Không"),
                ("Nhà nước đã có, không phải nộp", "; ".join(held) or "Không"),
            ],
            paragraphs=[
                "Thời hạn tính theo ngày làm việc, không kể ngày nghỉ lễ, Tết và thời gian chờ "
                "công dân bổ sung hồ sơ."
            ],
            footer=_footer(detail),
        )
    )


def apology_pdf(detail: DossierDetail, apology_id: int) -> bytes:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    apology = next(a for a in detail.apologies if a.id == apology_id)
    return document_pdf(
        Document(
            authority=detail.agency_name.upper(),
            title="PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
            reference=f"Mã hồ sơ: {detail.row.code}",
            rows=[
                ("Kính gửi", detail.row.applicant_name),
                ("Thủ tục", detail.procedure.name),
                ("Ngày hẹn trả trước đây", _date(apology.previous_due)),
                ("Lý do chậm trễ", apology.reason),
                ("Ngày hẹn trả mới", _date(apology.new_due)),
            ],
            paragraphs=[
                f"{detail.agency_name} xin lỗi ông/bà vì sự chậm trễ này và hẹn trả kết quả "
                f"vào ngày {_date(apology.new_due)}."
            ],
            footer=_footer(detail),
        )
    )


def result_pdf(detail: DossierDetail) -> bytes:
    """The result notice, under its result code (Decree 45/2020 Art. 14)."""
    return document_pdf(
        Document(
            authority=detail.agency_name.upper(),
            title="THÔNG BÁO KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
            reference=f"Mã kết quả: {detail.result_code}",
            rows=[
                ("Thủ tục", f"{detail.procedure.name} ({detail.procedure.code})"),
                ("Người nộp", detail.row.applicant_name),
                ("Mã hồ sơ", detail.row.code),
                *((name, str(value)) for name, value in _declared(detail)),
            ],
            paragraphs=["Hồ sơ đã được phê duyệt."],
            footer=_footer(detail),
        )
    )


def _declared(detail: DossierDetail) -> list[tuple[str, object]]:
    return [
        (prop.get("title", name), detail.declaration[name])
        for name, prop in detail.procedure.form_fields
        if name in detail.declaration
    ]
