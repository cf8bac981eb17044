"""The Django admin for officials only with a second factor: the same rule as the back office
(an active staff user, a session verified by one of their django-otp devices, not left idle
for STAFF_IDLE_SECONDS), on the default admin site that every app registers its models on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.admin import OTPAdminAuthenticationForm

from motcua.web.backoffice import (
    WRONG_CODE,
    device_accepting,
    second_factor_verified,
    staff_session_alive,
)

# django-otp's admin sign-in page: username, password and the authenticator's code.
LOGIN_TEMPLATE = "otp/admin111/login.html"


class StaffAdminAuthenticationForm(OTPAdminAuthenticationForm):
    """Username, password and the code in one form; the code is tried on each of the user's
    confirmed devices, so that nobody has to pick one first."""

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": gettext_lazy("Nhập mã xác thực"),
        "invalid_token": WRONG_CODE,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].label = _("Mã xác thực")
        self.fields["otp_token"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric"}
        )

    def _verify_token(self, user: Any, token: str, device: Any = None) -> Any:
        if device is not None:
            return super()._verify_token(user, token, device)
        accepted = device_accepting(user, token.strip())
        if accepted is None:
            raise forms.ValidationError(self.otp_error_messages["invalid_token"])
        return accepted


def staff_admin(site: AdminSite) -> AdminSite:
    """`site` asking for the second factor at sign-in and on every page."""

    def has_permission(request: HttpRequest) -> bool:
        return (
            AdminSite.has_permission(site, request)
            and second_factor_verified(request.user)
            and staff_session_alive(request)
        )

    site.has_permission = has_permission  # type: ignore[method-assign]
    site.site_header = gettext_lazy("Motcua — quản trị")
    site.site_title = gettext_lazy("Motcua — quản trị")
    site.index_title = gettext_lazy("Dữ liệu danh mục và quản trị hệ thống")
    site.login_form = StaffAdminAuthenticationForm
    site.login_template = LOGIN_TEMPLATE
    return site
