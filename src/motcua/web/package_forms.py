"""Forms of the linked packages (Decree 63/2024): the citizen types only what the state cannot
know. The birth form asks for the child (the parents, household and address come from the
registry); the death form asks for the deceased and the steps wanted. The package's own rules
(who the parents are, where the benefit goes) stay in dossiers.packages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, cast

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from motcua.core.forms import DayMonthYearField
from motcua.core.held import HeldFile
from motcua.web.forms import ACCEPT

PIN_ATTRS = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}
BENEFIT_STEPS = frozenset({"funeral", "survivor"})


def _file_field(label: Any, *, required: bool, missing: Any) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": missing},
    )


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


class PackageForm(forms.Form):
    """What the package forms share: the idempotency key, the files held across a re-shown form
    (core.held), the declaration in JSON terms, where a service's error shows, the answers."""

    kind = ""
    uploads: tuple[str, ...] = ()  # the components uploaded, by code
    declaration_names: tuple[str, ...] = ()

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, held: dict[str, HeldFile] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = held or {}
        self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def rows(self) -> Iterator[tuple[forms.BoundField, str, str]]:
        """Each visible field, with what the page says about a file already received and the
        token that keeps it."""
        for bound in self.visible_fields():
            held = self.held.get(bound.name)
            if held is None:
                yield bound, "", ""
            else:
                kept = _("Đã nhận tệp %(name)s — chọn tệp khác nếu muốn thay") % {
                    "name": held.original_name
                }
                yield bound, kept, held.token

    def declaration(self) -> dict[str, Any]:
        """The typed answers in JSON terms: dates as ISO text, empty answers left out; only the
        fields that passed the form's checks."""
        cleaned = getattr(self, "cleaned_data", {})
        values: dict[str, Any] = {}
        for name in self.declaration_names:
            value = cleaned.get(name)
            if isinstance(value, date):
                value = value.isoformat()
            if value not in (None, ""):
                values[name] = value
        return values

    def chosen_steps(self) -> tuple[str, ...]:
        return ()

    def field_for(self, error_key: str) -> str | None:
        """Where a service's error key (`declaration.name`, `file_code`, `steps.choice`) shows
        on the form; None for the top of the form."""
        name = error_key.removeprefix("declaration.")
        if name.startswith("steps."):
            name = "steps"
        return name if name in self.fields else None

    def upload_names(self) -> set[str]:
        return {f"file_{code}" for code in self.uploads}

    def answers(self, draft: dict[str, Any]) -> list[tuple[str, str, str]]:
        """The check-your-answers rows of a saved draft: (label, answer, field id to change)."""
        rows: list[tuple[str, str, str]] = []
        declaration = draft.get("declaration", {})
        for name in self.fields:
            field = self.fields[name]
            if name == "idempotency_key":
                continue
            if name == "steps":
                value: Any = draft.get("steps", [])
            elif name.startswith("file_"):
                held = self.held.get(name)
                if held is None and not self.wants_file(name, draft):
                    continue
                value = held.original_name if held else _("Không gửi kèm")
                rows.append((str(field.label), str(value), self[name].id_for_label))
                continue
            else:
                value = declaration.get(name)
                if value in (None, "") and not field.required and not self.asked(name, draft):
                    continue
            rows.append((str(field.label), answer(field, value), self[name].id_for_label))
        return rows

    def wants_file(self, name: str, draft: dict[str, Any]) -> bool:
        return True

    def asked(self, name: str, draft: dict[str, Any]) -> bool:
        """Whether an optional question belongs to this draft (left blank, it still shows)."""
        return True


def answer(field: forms.Field, value: Any) -> str:
    """An answer in words: a choice by its label, several by theirs, a date dd/mm/yyyy."""
    if value in (None, "", []):
        return _("Không khai")
    if isinstance(field, DayMonthYearField):
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(field, forms.ChoiceField):
        labels = {str(k): str(v) for k, v in cast(list[tuple[Any, Any]], field.choices)}
        if isinstance(value, list | tuple):
            return "; ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    return str(value)


# --- birth ---------------------------------------------------------------------------------------

SEXES = (("M", gettext_lazy("Nam")), ("F", gettext_lazy("Nữ")))


class BirthPackageForm(PackageForm):
    """Birth registration, the child's permanent residence and health-insurance card in one:
    the parent types the child's name, sex, date and place of birth, and sends the medical
    birth certificate."""

    kind = "birth"
    uploads = ("giay_chung_sinh",)
    declaration_names = ("ho_ten_tre", "gioi_tinh", "ngay_sinh", "noi_sinh", "noi_kcb_ban_dau")

    ho_ten_tre = forms.CharField(
        label=gettext_lazy("Họ, chữ đệm và tên của trẻ"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": gettext_lazy("Nhập họ, chữ đệm và tên của trẻ")},
    )
    gioi_tinh = forms.ChoiceField(
        label=gettext_lazy("Giới tính của trẻ"),
        choices=SEXES,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Chọn giới tính của trẻ")},
    )
    ngay_sinh = DayMonthYearField(
        label=gettext_lazy("Ngày sinh của trẻ"),
        help_text=gettext_lazy("Ví dụ 27 3 2026"),
        error_messages={"required": gettext_lazy("Nhập ngày sinh của trẻ")},
    )
    noi_sinh = forms.CharField(
        label=gettext_lazy("Nơi sinh"),
        help_text=gettext_lazy("Tên cơ sở y tế, hoặc địa chỉ nếu trẻ sinh ngoài cơ sở y tế"),
        max_length=300,
        error_messages={"required": gettext_lazy("Nhập nơi sinh của trẻ")},
    )
    noi_kcb_ban_dau = forms.CharField(
        label=gettext_lazy("Nơi đăng ký khám bệnh, chữa bệnh ban đầu cho trẻ"),
        help_text=gettext_lazy(
            "Trạm y tế xã, phòng khám hoặc bệnh viện nơi bạn muốn trẻ khám ban đầu"
        ),
        max_length=200,
        required=False,
    )

    def __init__(self, *args: Any, max_age_months: int | None = 72, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_age_months = max_age_months
        self.fields["file_giay_chung_sinh"] = _file_field(
            gettext_lazy("Giấy chứng sinh"),
            required="file_giay_chung_sinh" not in self.held,
            missing=gettext_lazy("Chọn tệp giấy chứng sinh do cơ sở y tế cấp"),
        )
        self.fields["file_giay_chung_sinh"].help_text = _(
            "Bản chụp hoặc bản điện tử giấy chứng sinh do cơ sở y tế cấp"
        )

    def clean_ngay_sinh(self) -> date | None:
        born: date | None = self.cleaned_data.get("ngay_sinh")
        limit = self.max_age_months
        if (
            born is not None
            and limit is not None
            and born <= months_before(timezone.localdate(), limit)
        ):
            raise forms.ValidationError(
                _(
                    "Thủ tục liên thông chỉ dành cho trẻ dưới %(years)s tuổi; hãy nộp riêng "
                    "từng thủ tục"
                )
                % {"years": limit // 12},
                code="too_old",
            )
        return born

    def chosen_steps(self) -> tuple[str, ...]:
        return ("birth", "residence", "health_card")


# --- death ---------------------------------------------------------------------------------------

DEATH_STEPS = (
    ("death", gettext_lazy("Đăng ký khai tử (Ủy ban nhân dân xã)")),
    ("residence_delete", gettext_lazy("Xóa đăng ký thường trú của người mất (Công an xã)")),
    (
        "funeral",
        gettext_lazy(
            "Trợ cấp mai táng (Bảo hiểm xã hội, hoặc phòng lao động với người hưởng trợ giúp xã hội)"
        ),
    ),
    ("survivor", gettext_lazy("Trợ cấp tuất một lần (Bảo hiểm xã hội)")),
)
RELATIONS = (
    ("vo_chong", gettext_lazy("Vợ hoặc chồng")),
    ("con", gettext_lazy("Con")),
    ("cha_me", gettext_lazy("Cha hoặc mẹ")),
    ("nguoi_than_khac", gettext_lazy("Người thân khác")),
)


class DeathPackageForm(PackageForm):
    """Death registration, deletion of permanent residence, funeral allowance and survivor
    benefit: the applicant picks at least two of them; the form asks for a bank account only
    for a benefit and for the death notice only for the death registration."""

    kind = "death"
    uploads = ("giay_bao_tu",)
    declaration_names = (
        "nguoi_chet_pin",
        "nguoi_chet_ho_ten",
        "ngay_chet",
        "noi_chet",
        "nguyen_nhan_chet",
        "quan_he",
        "so_tai_khoan",
        "ngan_hang",
    )

    steps = forms.MultipleChoiceField(
        label=gettext_lazy("Bạn cần làm những việc nào?"),
        help_text=gettext_lazy("Chọn ít nhất 2 việc; các cơ quan lần lượt giải quyết."),
        choices=DEATH_STEPS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Chọn ít nhất 2 việc cần làm")},
    )
    nguoi_chet_pin = forms.CharField(
        label=gettext_lazy("Số định danh cá nhân của người mất"),
        help_text=gettext_lazy("12 chữ số, in trên thẻ căn cước của người mất"),
        max_length=12,
        validators=[RegexValidator(r"^[0-9]{12}$", gettext_lazy("Số định danh gồm 12 chữ số"))],
        widget=forms.TextInput(attrs=PIN_ATTRS),
        error_messages={"required": gettext_lazy("Nhập số định danh cá nhân của người mất")},
    )
    nguoi_chet_ho_ten = forms.CharField(
        label=gettext_lazy("Họ, chữ đệm và tên của người mất"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": gettext_lazy("Nhập họ, chữ đệm và tên của người mất")},
    )
    ngay_chet = DayMonthYearField(
        label=gettext_lazy("Ngày mất"),
        help_text=gettext_lazy("Ví dụ 27 3 2026"),
        error_messages={"required": gettext_lazy("Nhập ngày mất")},
    )
    noi_chet = forms.CharField(
        label=gettext_lazy("Nơi mất"),
        help_text=gettext_lazy("Tên cơ sở y tế, hoặc địa chỉ"),
        max_length=300,
        error_messages={"required": gettext_lazy("Nhập nơi mất")},
    )
    nguyen_nhan_chet = forms.CharField(
        label=gettext_lazy("Nguyên nhân mất"),
        max_length=300,
        error_messages={"required": gettext_lazy("Nhập nguyên nhân mất")},
    )
    quan_he = forms.ChoiceField(
        label=gettext_lazy("Bạn là gì của người mất?"),
        choices=RELATIONS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Chọn quan hệ của bạn với người mất")},
    )
    so_tai_khoan = forms.CharField(
        label=gettext_lazy("Số tài khoản ngân hàng nhận trợ cấp"),
        help_text=gettext_lazy("Chỉ cần khi đề nghị trợ cấp mai táng hoặc trợ cấp tuất"),
        max_length=30,
        required=False,
        validators=[
            RegexValidator(r"^[0-9]{6,30}$", gettext_lazy("Số tài khoản gồm 6 đến 30 chữ số"))
        ],
        widget=forms.TextInput(attrs=PIN_ATTRS),
    )
    ngan_hang = forms.CharField(
        label=gettext_lazy("Tên ngân hàng"),
        help_text=gettext_lazy("Chỉ cần khi đề nghị trợ cấp mai táng hoặc trợ cấp tuất"),
        max_length=100,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file_giay_bao_tu"] = _file_field(
            gettext_lazy("Giấy báo tử"),
            required=False,  # needed only for the death registration: see clean()
            missing=gettext_lazy("Chọn tệp giấy báo tử"),
        )
        self.fields["file_giay_bao_tu"].help_text = _(
            "Do cơ sở y tế hoặc cơ quan có thẩm quyền cấp; cần khi đăng ký khai tử"
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = set(cleaned.get("steps") or [])
        if "steps" in cleaned and len(chosen) < 2:
            self.add_error("steps", _("Chọn ít nhất 2 việc cần làm"))
        if chosen & BENEFIT_STEPS:
            if not cleaned.get("so_tai_khoan") and "so_tai_khoan" not in self.errors:
                self.add_error("so_tai_khoan", _("Nhập số tài khoản nhận trợ cấp"))
            if not cleaned.get("ngan_hang"):
                self.add_error("ngan_hang", _("Nhập tên ngân hàng"))
        if (
            "death" in chosen
            and not cleaned.get("file_giay_bao_tu")
            and "file_giay_bao_tu" not in self.held
            and "file_giay_bao_tu" not in self.errors
        ):
            self.add_error("file_giay_bao_tu", _("Chọn tệp giấy báo tử"))
        return cleaned

    def chosen_steps(self) -> tuple[str, ...]:
        cleaned = getattr(self, "cleaned_data", {})
        return tuple(cleaned.get("steps") or ())

    def declaration(self) -> dict[str, Any]:
        values = super().declaration()
        if not set(self.chosen_steps()) & BENEFIT_STEPS:
            values.pop("so_tai_khoan", None)
            values.pop("ngan_hang", None)
        return values

    def wants_file(self, name: str, draft: dict[str, Any]) -> bool:
        return "death" in draft.get("steps", [])

    def asked(self, name: str, draft: dict[str, Any]) -> bool:
        if name in ("so_tai_khoan", "ngan_hang"):
            return bool(set(draft.get("steps", [])) & BENEFIT_STEPS)
        return True


FORMS: dict[str, type[PackageForm]] = {"birth": BirthPackageForm, "death": DeathPackageForm}
