"""Forms of the e-ID pages; the rules live in services, these only parse."""

from __future__ import annotations

from django import forms


class LoginForm(forms.Form):
    pin = forms.CharField(label="Số định danh cá nhân / PIN", max_length=12, min_length=12)
    password = forms.CharField(label="Mật khẩu / Password", widget=forms.PasswordInput, strip=False)


class CodeForm(forms.Form):
    code = forms.CharField(label="Mã xác thực / Code", max_length=8, min_length=6)


class RegisterForm(forms.Form):
    pin = forms.CharField(label="Số định danh cá nhân / PIN", max_length=12, min_length=12)
    full_name = forms.CharField(label="Họ và tên / Full name", max_length=100)
    birth_date = forms.CharField(label="Ngày sinh / Date of birth (YYYY-MM-DD)", max_length=10)
    password = forms.CharField(label="Mật khẩu / Password", widget=forms.PasswordInput, strip=False)
    portrait = forms.FileField(label="Ảnh chân dung / Portrait (JPEG, PNG)")


class ConfirmForm(forms.Form):
    pin = forms.CharField(widget=forms.HiddenInput)
    code = forms.CharField(label="Mã xác thực / Code", max_length=8, min_length=6)


class ResetBeginForm(forms.Form):
    pin = forms.CharField(label="Số định danh cá nhân / PIN", max_length=12, min_length=12)
    contact = forms.CharField(
        label="Số điện thoại hoặc email đã đăng ký / Registered phone or e-mail"
    )


class ResetFinishForm(forms.Form):
    pin = forms.CharField(label="Số định danh cá nhân / PIN", max_length=12, min_length=12)
    code = forms.CharField(label="Mã đã gửi / Code sent to you", max_length=8)
    totp_code = forms.CharField(
        label="Mã ứng dụng xác thực (nếu có) / Authenticator code (if set up)", required=False
    )
    password = forms.CharField(
        label="Mật khẩu mới / New password", widget=forms.PasswordInput, strip=False
    )


class PasswordChangeForm(forms.Form):
    current = forms.CharField(
        label="Mật khẩu hiện tại / Current password", widget=forms.PasswordInput, strip=False
    )
    new = forms.CharField(
        label="Mật khẩu mới / New password", widget=forms.PasswordInput, strip=False
    )


class ChildForm(forms.Form):
    child_pin = forms.CharField(
        label="Số định danh của con / Child's PIN", max_length=12, min_length=12
    )
    full_name = forms.CharField(label="Họ và tên / Full name", max_length=100)
    birth_date = forms.CharField(label="Ngày sinh / Date of birth", max_length=10)


class AccessFilterForm(forms.Form):
    since = forms.DateField(
        label="Từ ngày / From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Đến ngày / To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reader = forms.CharField(
        label="Cơ quan, đối tác / Agency or partner", required=False, max_length=100
    )


class RaiseLevelForm(forms.Form):
    pin = forms.CharField(label="Số định danh / PIN", max_length=12, min_length=12)
    card_number = forms.CharField(label="Số thẻ căn cước đã kiểm tra / Card checked", max_length=12)
    place = forms.CharField(label="Nơi kiểm tra / Where", max_length=300)
    checked_at = forms.DateTimeField(
        label="Thời điểm / When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
