"""Forms of the e-ID pages; the rules live in services, these only parse (and check what needs
no database, so that every field's error shows in one pass)."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from motcua.core.errors import DomainError, ValidationFailed
from motcua.core.forms import DayMonthYearField, errors_onto
from motcua.core.held import HeldFile
from motcua.core.uploads import IMAGE_ONLY, CheckedFile, upload_check
from motcua.identity.portraits import MAX_BYTES as PORTRAIT_MAX_BYTES

PIN_WRONG = _("Số định danh gồm đúng 12 chữ số")
CODE_WRONG = _("Mã gồm 6 chữ số")
REENTER_PASSWORD = _(
    "Vì an toàn, mật khẩu không được giữ lại khi trang hiện lại: hãy nhập lại mật khẩu"
)


def _numeric(autocomplete: str = "off", width: int = 10) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "inputmode": "numeric",
            "autocomplete": autocomplete,
            "spellcheck": "false",
            "class": f"govuk-input--width-{width}",
        }
    )


def _password(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": autocomplete, "spellcheck": "false"})


class PinField(forms.CharField):
    """A personal identification number: 12 digits; spaces and dots people type are dropped."""

    def __init__(self, *, autocomplete: str = "off", **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Số định danh cá nhân"))
        kwargs.setdefault("help_text", _("12 chữ số, in trên thẻ căn cước"))
        super().__init__(widget=_numeric(autocomplete, 10), **kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return "".join(c for c in text if c not in " .-")

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not (value.isdigit() and len(value) == 12):
            raise ValidationError(PIN_WRONG)


class CodeField(forms.CharField):
    """A 6-digit one-time code (SMS, e-mail or an authenticator app)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Mã xác thực"))
        super().__init__(widget=_numeric("one-time-code", 5), **kwargs)

    def to_python(self, value: Any) -> str:
        return "".join(c for c in super().to_python(value) or "" if not c.isspace())

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not (value.isdigit() and 6 <= len(value) <= 8):
            raise ValidationError(CODE_WRONG)


class ForgivingForm(forms.Form):
    """A form whose passwords, never sent back to the browser, say so when the form comes back
    with an error: the person must type them again."""

    secret_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # "Nhập họ và tên", not "this field is required"
            if field.required and not isinstance(field, forms.FileField):
                label = str(field.label or "")
                field.error_messages["required"] = _("Nhập %(what)s") % {
                    "what": label[:1].lower() + label[1:]
                }

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_reentry()

    def mark_reentry(self) -> None:
        if not self.is_bound or not self.errors:
            return
        for name in self.secret_fields:
            self.fields[name].help_text = REENTER_PASSWORD
            self[name].help_text = REENTER_PASSWORD  # the bound field keeps its own copy

    def add_service_errors(self, error: DomainError) -> None:
        """A service's refusal on the form, beside its fields (else on top)."""
        errors_onto(self, error)
        self.mark_reentry()


class LoginForm(ForgivingForm):
    secret_fields = ("password",)
    pin = PinField(autocomplete="username")
    password = forms.CharField(
        label=_("Mật khẩu"), widget=_password("current-password"), strip=False
    )


class CodeForm(ForgivingForm):
    code = CodeField(help_text=_("6 chữ số trong ứng dụng xác thực trên điện thoại của bạn"))


class RegisterForm(ForgivingForm):
    """Level 1. The portrait, once sent and found good, is held on the server while the form
    comes back with other errors (`held`): it is not chosen again."""

    secret_fields = ("password",)
    pin = PinField()
    full_name = forms.CharField(
        label=_("Họ và tên"),
        max_length=100,
        help_text=_("Như trên thẻ căn cước, có dấu"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    birth_date = DayMonthYearField(label=_("Ngày sinh"), help_text=_("Ví dụ: 17 5 1956"))
    password = forms.CharField(
        label=_("Mật khẩu"),
        widget=_password("new-password"),
        strip=False,
        help_text=_("Ít nhất 8 ký tự; không dùng tên, ngày sinh hay số định danh của bạn"),
    )
    portrait = forms.FileField(
        label=_("Ảnh chân dung"),
        help_text=_("Ảnh JPEG hoặc PNG, nhỏ hơn 5 MB, thấy rõ khuôn mặt"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    def __init__(self, *args: Any, held: HeldFile | None = None, **kwargs: Any) -> None:
        self.held = held
        super().__init__(*args, **kwargs)
        self.fields["portrait"].required = held is None  # a held portrait need not be chosen again
        self.fields["portrait"].error_messages["required"] = _("Chọn ảnh chân dung")

    def clean_portrait(self) -> Any:
        """JPEG or PNG within the size (the service checks again): `checked` says what it is,
        so that the view can hold it when the form comes back for other reasons."""
        upload = self.cleaned_data.get("portrait")
        self.checked: CheckedFile | None = None
        if upload is None:
            if self.held is None:
                raise ValidationError(_("Chọn ảnh chân dung"))
            return None
        try:
            checked = upload_check(upload, field="portrait", max_bytes=PORTRAIT_MAX_BYTES)
        except ValidationFailed as error:
            raise ValidationError(error.errors.get("portrait", error.message)) from None
        if checked.kind not in ("jpeg", "png"):
            raise ValidationError(IMAGE_ONLY)
        upload.seek(0)
        self.checked = checked
        return upload


class ConfirmForm(ForgivingForm):
    pin = forms.CharField(widget=forms.HiddenInput)
    code = CodeField(help_text=_("Mã 6 chữ số trong tin nhắn hoặc email vừa gửi đến bạn"))


class ResetBeginForm(ForgivingForm):
    pin = PinField(autocomplete="username")
    contact = forms.CharField(
        label=_("Số điện thoại hoặc email đã đăng ký"),
        max_length=254,
        help_text=_("Số điện thoại 10 chữ số hoặc địa chỉ email bạn đã xác nhận"),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )


class ResetFinishForm(ForgivingForm):
    secret_fields = ("password",)
    pin = PinField(autocomplete="username")
    code = CodeField(label=_("Mã đã gửi đến bạn"))
    totp_code = CodeField(
        label=_("Mã từ ứng dụng xác thực"),
        required=False,
        help_text=_("Chỉ khi tài khoản của bạn có ứng dụng xác thực"),
    )
    password = forms.CharField(
        label=_("Mật khẩu mới"), widget=_password("new-password"), strip=False
    )


class PasswordChangeForm(ForgivingForm):
    secret_fields = ("current", "new")
    current = forms.CharField(
        label=_("Mật khẩu hiện tại"), widget=_password("current-password"), strip=False
    )
    new = forms.CharField(label=_("Mật khẩu mới"), widget=_password("new-password"), strip=False)


class ChildForm(ForgivingForm):
    child_pin = PinField(
        label=_("Số định danh của con"), help_text=_("12 chữ số, in trên giấy khai sinh")
    )
    full_name = forms.CharField(
        label=_("Họ và tên của con"),
        max_length=100,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    birth_date = DayMonthYearField(label=_("Ngày sinh của con"))


class AccessFilterForm(forms.Form):
    since = DayMonthYearField(label=_("Từ ngày"), required=False)
    until = DayMonthYearField(label=_("Đến ngày"), required=False)
    reader = forms.CharField(
        label=_("Cơ quan hoặc đối tác"),
        required=False,
        max_length=100,
        help_text=_("Một phần của tên, ví dụ: công an"),
    )


class RaiseLevelForm(ForgivingForm):
    pin = PinField()
    card_number = forms.CharField(
        label=_("Số thẻ căn cước đã kiểm tra"),
        max_length=12,
        widget=_numeric("off", 10),
    )
    place = forms.CharField(label=_("Nơi kiểm tra"), max_length=300)
    checked_at = forms.DateTimeField(
        label=_("Thời điểm kiểm tra"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
