from django.urls import path

from motcua.identity import views

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
    path("tai-khoan/phien/<int:session_id>/ket-thuc/", views.session_end_view, name="session_end"),
    path("tai-khoan/phien/ket-thuc-tat-ca/", views.sessions_end_all_view, name="sessions_end_all"),
    path("tai-khoan/con/", views.child_add_view, name="child_add"),
    path("khong-phai-toi/<str:token>/", views.disown_view, name="disown"),
    path("can-bo/nang-muc/", views.raise_level_view, name="raise_level"),
]
