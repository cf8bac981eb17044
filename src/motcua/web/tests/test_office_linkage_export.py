"""The linkage results for the clerk (issue 14): CSV and Excel of the matches in words (the
result, how it was linked, the dataset's columns named by what they hold), every formula-like
cell made text, each download in the access log of each citizen it names; a clerk without the
right to run linkage is refused, told so in words."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from motcua.core.models import AccessLog
from motcua.web.tests.test_backoffice_linkage import (
    REVIEWER,
    RUNNER,
    make_job,
    signed_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _linkage_dir(settings: Any, tmp_path: Path) -> None:
    settings.LINKAGE_DIR = tmp_path / "jobs"


def _full_results(job: Any) -> None:
    """The engine's file with every answer column, as the pipeline writes it."""
    pq.write_table(
        pa.table(
            {
                "so_gplx": ["GPLX-1", "GPLX-2", "GPLX-3"],
                "ho_ten": ["Nguyễn Văn An", "=1+2", "Lê Thị Hoa"],
                "ngay_sinh": ["12/05/1984", "1990", "01/01/2000"],
                "ma_xa": ["2025:29365", "", "khong-co"],
                "linked_pin": ["087084000001", None, None],
                "candidate_pin": [None, "087084000002", None],
                "match_weight": [12.5, -1.25, None],
                "match_probability": [0.999, 0.42, None],
                "class": ["linked", "review", "unlinked"],
                "method": ["pin", "probabilistic", None],
            }
        ),
        job.output,
    )


HEADER = [
    "Mã bản ghi",
    "Họ và tên",
    "Ngày sinh",
    "Xã, phường",
    "Kết quả",
    "Cách liên kết",
    "Số định danh đã liên kết",
    "Số định danh cần đối soát",
    "Xác suất khớp (%)",
]


def test_the_results_download_as_csv_in_words_and_each_citizen_is_logged(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    _full_results(job)
    client = signed_in("lamsach.test", *RUNNER)
    answer = client.get(reverse("backoffice:linkage_results", args=[job.pk, "csv"]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert f"ket-qua-lien-ket-{job.pk}-" in answer["Content-Disposition"]
    text = answer.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == HEADER
    assert rows[1][3] != "2025:29365" and rows[1][3]  # the ward by its name
    assert rows[3][3] == "khong-co"  # an unknown code is left as the file had it
    del rows[1][3]
    assert rows[1] == [
        "GPLX-1",
        "Nguyễn Văn An",
        "12/05/1984",
        "Đã liên kết",
        "Trùng số định danh",
        "087084000001",
        "",
        "99.9",
    ]
    assert rows[2][1] == "'=1+2"  # shown, never run
    assert rows[2][4:6] == ["Cần đối soát", "Mô hình xác suất"]
    assert rows[3][4] == "Không tìm thấy"
    assert "linked" not in text.split("\n", 1)[1] and "probabilistic" not in text
    logged = sorted(AccessLog.objects.values_list("subject_pin", "actor"))
    assert logged == [
        ("087084000001", "official:lamsach.test"),
        ("087084000002", "official:lamsach.test"),
    ]


def test_the_results_download_as_excel(tmp_path: Path) -> None:
    job = make_job(tmp_path)
    _full_results(job)
    client = signed_in("lamsach.test", *RUNNER)
    answer = client.get(reverse("backoffice:linkage_results", args=[job.pk, "xlsx"]))
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADER
    assert values[1][4] == "Đã liên kết" and values[1][8] == 99.9
    assert values[2][1] == "'=1+2"
    assert AccessLog.objects.count() == 2


def test_attack_clerk_without_the_linkage_permission_downloading_results_is_refused(
    tmp_path: Path,
) -> None:
    job = make_job(tmp_path)
    _full_results(job)
    reviewer = signed_in("doisoat", *REVIEWER)
    outsider = signed_in("canbo.khac", "registry.view_citizen")
    for client in (reviewer, outsider):
        for fmt in ("csv", "xlsx"):
            refused = client.get(reverse("backoffice:linkage_results", args=[job.pk, fmt]))
            assert refused.status_code == 403
            page = refused.content.decode()
            assert "được giao quyền" in page and "linkage.run_linkage" not in page
    other = signed_in("lamsach.khac", *RUNNER, of="H30.CA.TEST")
    assert other.get(reverse("backoffice:linkage_results", args=[job.pk, "csv"])).status_code == 404
    owner = signed_in("lamsach.test", *RUNNER)
    assert owner.get(reverse("backoffice:linkage_results", args=[job.pk, "pdf"])).status_code == 404
    assert AccessLog.objects.count() == 0
