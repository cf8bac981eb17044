from django.urls import path

from motcua.identity import passkeys, views

app_name = "identity"

urlpatterns = [
    path("dang-nhap/", views.login_view, name="login"),
    path("xac-thuc-2-lop/", views.second_factor_view, name="second_factor"),
    path("dang-xuat/", views.logout_view, name="logout"),
    path("dang-ky/", views.register_view, name="register"),
    path("dang-ky/xac-nhan/", views.register_confirm_view, name="register_confirm"),
    path("quen-mat-khau/", views.reset_begin_view, name="reset_begin"),
    path("quen-mat-khau/dat-lai/", views.reset_finish_view, name="reset_finish"),
    path("tai-khoan/", views.account_view, name="account"),
    path("tai-khoan/ai-da-xem/", views.access_view, name="access"),
    path("tai-khoan/xac-thuc/", views.totp_view, name="totp"),
    path("tai-khoan/mat-khau/", views.password_view, name="password"),
    path(
        "tai-khoan/dong-y/<int:consent_id>/rut/",
        views.consent_withdraw_view,
        name="consent_withdraw",
    ),
    path("tai-khoan/phien/", views.sessions_view, name="sessions"),
    path("tai-khoan/phien/<int:session_id>/ket-thuc/", views.session_end_view, name="session_end"),
    path("tai-khoan/phien/ket-thuc-tat-ca/", views.sessions_end_all_view, name="sessions_end_all"),
    path("tai-khoan/con/", views.child_add_view, name="child_add"),
    path("khong-phai-toi/<str:token>/", views.disown_view, name="disown"),
    path("can-bo/nang-muc/", views.raise_level_view, name="raise_level"),
    path("tai-khoan/khoa-truy-cap/", passkeys.passkeys_view, name="passkeys"),
    path("tai-khoan/khoa-truy-cap/them/", passkeys.passkey_add_view, name="passkey_add"),
    path(
        "tai-khoan/khoa-truy-cap/<int:device_id>/xoa/",
        passkeys.passkey_remove_view,
        name="passkey_remove",
    ),
    path(
        "khoa-truy-cap/dang-ky/bat-dau/",
        passkeys.passkey_register_begin,
        name="passkey_register_begin",
    ),
    path(
        "khoa-truy-cap/dang-ky/hoan-tat/",
        passkeys.passkey_register_complete,
        name="passkey_register_complete",
    ),
    path("khoa-truy-cap/xac-thuc/bat-dau/", passkeys.passkey_auth_begin, name="passkey_auth_begin"),
    path(
        "khoa-truy-cap/xac-thuc/hoan-tat/",
        passkeys.passkey_auth_complete,
        name="passkey_auth_complete",
    ),
    path("khoa-truy-cap/jsi18n/", passkeys.passkey_jsi18n, name="passkey_jsi18n"),
]
