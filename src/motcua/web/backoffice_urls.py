from django.urls import path

from motcua.web import backoffice

app_name = "backoffice"

urlpatterns = [
    path("dang-nhap/", backoffice.LoginView.as_view(), name="login"),
    path("dang-xuat/", backoffice.logout_view, name="logout"),
    path("", backoffice.start_view, name="start"),
    path("co-quan/<int:agency_id>/", backoffice.queue_view, name="queue"),
    path("ho-so/<int:dossier_id>/", backoffice.dossier_view, name="dossier"),
    path("ho-so/<int:dossier_id>/buoc/", backoffice.step_view, name="step"),
    path("ho-so/<int:dossier_id>/xin-loi/", backoffice.apology_view, name="apology"),
    path("ho-so/<int:dossier_id>/tep/<int:file_id>/", backoffice.file_view, name="file"),
    path(
        "ho-so/<int:dossier_id>/xin-loi/<int:apology_id>.pdf",
        backoffice.paper_view,
        {"paper": "xin-loi"},
        name="apology_pdf",
    ),
    path("ho-so/<int:dossier_id>/<str:paper>.pdf", backoffice.paper_view, name="paper"),
]
