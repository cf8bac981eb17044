from django.contrib import admin
from django.urls import include, path
from oauth2_provider import views as oauth2_views

from motcua.api import api
from motcua.core.views import favicon, healthz
from motcua.identity import passkeys
from motcua.identity.authorize import AuthorizeView, DiscoveryView, UserInfoEndpoint
from motcua.web import backoffice, citizen
from motcua.web import offers as offer_pages
from motcua.web import views as web
from motcua.web.admin_site import staff_admin
from motcua.web.packages import (
    package_check_view,
    package_start_view,
    package_submitted_view,
    package_view,
    package_withdraw_view,
)

# The provider's endpoints, with our authorization view in front of django-oauth-toolkit's.
# Only the code flow: no device grant, no client self-registration, no application pages.
oidc_patterns = [
    path("authorize/", AuthorizeView.as_view(), name="authorize"),
    path("token/", oauth2_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth2_views.RevokeTokenView.as_view(), name="revoke-token"),
    path(
        ".well-known/openid-configuration",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", oauth2_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", UserInfoEndpoint.as_view(), name="user-info"),
    path("logout/", oauth2_views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]

# An official's passkey at the back office's second step: identity's assertion, told where the
# back office keeps the official who passed the password step.
staff_passkey = {
    "pending_key": backoffice.PENDING_KEY,
    "pending_seconds": backoffice.PENDING_SECONDS,
    "seen_key": backoffice.SEEN_KEY,
    "start_url": "/can-bo/",
}

urlpatterns = [
    path(
        "can-bo/dang-nhap/khoa-truy-cap/bat-dau/",
        passkeys.StaffAuthenticationBegin.as_view(**staff_passkey),
        name="staff_passkey_begin",
    ),
    path(
        "can-bo/dang-nhap/khoa-truy-cap/hoan-tat/",
        passkeys.StaffAuthenticationComplete.as_view(**staff_passkey),
        name="staff_passkey_complete",
    ),
    path("", web.home, name="home"),
    path("dang-nhap/", web.portal_login, name="portal_login"),
    path("oidc/callback/", web.portal_callback, name="portal_callback"),
    path("dang-xuat/", web.portal_logout, name="portal_logout"),
    path("thu-tuc/", citizen.procedures_view, name="procedures"),
    path("thu-tuc/giam-giay-to/", citizen.once_only_view, name="once_only"),
    path("thu-tuc/<str:code>/", citizen.procedure_view, name="procedure"),
    path("thu-tuc/<str:code>/nop/", citizen.submit_view, name="submit"),
    path("thu-tuc/<str:code>/nop/kiem-tra/", citizen.check_view, name="submit_check"),
    path("lien-thong/<str:kind>/", package_start_view, name="package_start"),
    path("lien-thong/<str:kind>/kiem-tra/", package_check_view, name="package_check"),
    path("lien-thong/ho-so/<int:package_id>/", package_view, name="citizen_package"),
    path(
        "lien-thong/ho-so/<int:package_id>/da-nop/",
        package_submitted_view,
        name="package_submitted",
    ),
    path("lien-thong/ho-so/<int:package_id>/rut/", package_withdraw_view, name="package_withdraw"),
    path("tra-cuu-ho-so/", citizen.lookup_view, name="dossier_lookup"),
    path("ho-so/", citizen.my_dossiers_view, name="my_dossiers"),
    path("ho-so/<int:dossier_id>/", citizen.dossier_view, name="citizen_dossier"),
    path("ho-so/<int:dossier_id>/da-nop/", citizen.submitted_view, name="citizen_submitted"),
    path("ho-so/<int:dossier_id>/rut/", citizen.withdraw_view, name="citizen_withdraw"),
    path("ho-so/<int:dossier_id>/bo-sung/", citizen.supplement_view, name="citizen_supplement"),
    path("ho-so/<int:dossier_id>/danh-gia/", citizen.rate_view, name="citizen_rate"),
    path("ho-so/<int:dossier_id>/tep/<int:file_id>/", citizen.file_view, name="citizen_file"),
    path(
        "ho-so/<int:dossier_id>/xin-loi/<int:apology_id>.pdf",
        citizen.paper_view,
        {"paper": "xin-loi"},
        name="citizen_apology",
    ),
    path("ho-so/<int:dossier_id>/<str:paper>.pdf", citizen.paper_view, name="citizen_paper"),
    path("dich-vu-chu-dong/", offer_pages.offers_view, name="offers"),
    path(
        "dich-vu-chu-dong/<int:offer_id>/nhan/", offer_pages.offer_accept_view, name="offer_accept"
    ),
    path(
        "dich-vu-chu-dong/<int:offer_id>/tu-choi/",
        offer_pages.offer_decline_view,
        name="offer_decline",
    ),
    path("can-bo/", include("motcua.web.backoffice_urls")),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's switch
    path("favicon.ico", favicon),
    path("o/", include((oidc_patterns, "oauth2_provider"))),
    path("id/", include("motcua.identity.urls")),
    path("api/", api.urls),
    path("admin/", staff_admin(admin.site).urls),
]

handler400 = "motcua.core.views.bad_request"
handler403 = "motcua.core.views.forbidden"
handler404 = "motcua.core.views.not_found"
handler500 = "motcua.core.views.server_error"
