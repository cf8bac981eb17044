from django.urls import path

from motcua.web import backoffice
from motcua.web import linkage_views as linkage

app_name = "backoffice"

urlpatterns = [
    path("dang-nhap/", backoffice.LoginView.as_view(), name="login"),
    path("dang-nhap/ma-xac-thuc/", backoffice.login_code_view, name="login_code"),
    path("dang-xuat/", backoffice.logout_view, name="logout"),
    path("", backoffice.start_view, name="start"),
    path("cho-toi/", backoffice.start_view, name="mine"),
    path("cho-toi.<str:fmt>", backoffice.mine_export_view, name="mine_export"),
    path("co-quan/<int:agency_id>/", backoffice.queue_view, name="queue"),
    path(
        "co-quan/<int:agency_id>/ho-so.<str:fmt>",
        backoffice.queue_export_view,
        name="queue_export",
    ),
    path("ho-so/<int:dossier_id>/", backoffice.dossier_view, name="dossier"),
    path("ho-so/<int:dossier_id>/buoc/", backoffice.step_view, name="step"),
    path("ho-so/<int:dossier_id>/xin-loi/", backoffice.apology_view, name="apology"),
    path(
        "ho-so/<int:dossier_id>/du-thao-ket-qua.pdf",
        backoffice.preview_view,
        name="result_preview",
    ),
    path("ho-so/<int:dossier_id>/tep/<int:file_id>/", backoffice.file_view, name="file"),
    path(
        "ho-so/<int:dossier_id>/xin-loi/<int:apology_id>.pdf",
        backoffice.paper_view,
        {"paper": "xin-loi"},
        name="apology_pdf",
    ),
    path("ho-so/<int:dossier_id>/<str:paper>.pdf", backoffice.paper_view, name="paper"),
    path("lien-ket/", linkage.jobs_view, name="linkage_jobs"),
    path("lien-ket/<int:job_id>/", linkage.job_view, name="linkage_job"),
    path("lien-ket/<int:job_id>/tien-do/", linkage.progress_view, name="linkage_progress"),
    path("lien-ket/<int:job_id>/chay-lai/", linkage.resume_view, name="linkage_resume"),
    path("lien-ket/<int:job_id>/bao-cao/", linkage.report_view, name="linkage_report"),
    path("lien-ket/<int:job_id>/ket-qua/", linkage.output_view, name="linkage_output"),
    path(
        "lien-ket/<int:job_id>/ket-qua.<str:fmt>",
        linkage.results_export_view,
        name="linkage_results",
    ),
    path("lien-ket/<int:job_id>/doi-soat/", linkage.review_view, name="linkage_review"),
    path("lien-ket/cap/<int:pair_id>/", linkage.pair_view, name="linkage_pair"),
    path("lien-ket/cap/<int:pair_id>/quyet-dinh/", linkage.decide_view, name="linkage_decide"),
]
