"""The job's HTML report: one self-contained page (inline SVG, no script) that an official can
open from the back office or a colleague from a file share.

Counts per class and method; the distribution of match weights as a chart; examples per class;
how much each field contributed on average; the trained weights of every comparison level.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from motcua.linkage.dataset import KINDS, DatasetInfo
from motcua.linkage.resolve import CLASSES, COMPARISONS, LINK_EVIDENCE, MARGIN, REVIEW_EVIDENCE

if TYPE_CHECKING:
    from motcua.linkage.pipeline import LinkSpec

EXAMPLES = 5
BIN = 2.0  # match weight per histogram bar
COLOURS = {"linked": "#2e7d32", "review": "#f9a825", "unlinked": "#9e9e9e"}
# The words for the classes, methods and compared fields, here and on the clerk's pages and
# downloads (linkage.selectors re-exports them).
CLASS_LABELS = {
    "linked": gettext_lazy("Đã liên kết"),
    "review": gettext_lazy("Cần đối soát"),
    "unlinked": gettext_lazy("Không tìm thấy"),
}
METHOD_LABELS = {
    "pin": gettext_lazy("Trùng số định danh"),
    "cmnd_dob": gettext_lazy("Trùng số CMND và ngày sinh"),
    "clerical": gettext_lazy("Cán bộ đã xác nhận"),
    "probabilistic": gettext_lazy("Mô hình xác suất"),
}
COMPARISON_LABELS = {
    "family": gettext_lazy("Họ"),
    "middle": gettext_lazy("Tên đệm"),
    "given": gettext_lazy("Tên"),
    "dob": gettext_lazy("Ngày sinh"),
    "sex": gettext_lazy("Giới tính"),
    "cmnd": gettext_lazy("Số CMND"),
    "place": gettext_lazy("Nơi ở"),
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}h2{margin-top:2rem}
small{color:#666}
"""


def write(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    spec: LinkSpec,
    info: DatasetInfo,
    counts: dict[str, dict[str, int]],
) -> None:
    sections = [
        _summary(spec, info, counts),
        _histogram(con),
        _contributions(con),
        _examples(con),
        _parameters(spec.out_dir / "model.json"),
    ]
    title = _("Báo cáo liên kết dữ liệu")
    path.write_text(
        f'<!doctype html><html lang="{get_language() or "vi"}"><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style><h1>{title}</h1>{''.join(sections)}</html>",
        encoding="utf-8",
    )


def _table(head: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, int | float):
            return (
                f'<td class="n">{value:,}</td>'
                if isinstance(value, int)
                else f'<td class="n">{value:.2f}</td>'
            )
        return f"<td>{escape(str(value if value is not None else '—'))}</td>"

    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _summary(spec: LinkSpec, info: DatasetInfo, counts: dict[str, dict[str, int]]) -> str:
    total = max(1, info.rows)
    classes = [
        [CLASS_LABELS[c], counts["class"].get(c, 0), f"{counts['class'].get(c, 0) / total:.1%}"]
        for c in CLASSES
    ]
    methods = [[METHOD_LABELS.get(m, m), n] for m, n in counts["method"].items()]
    return (
        f"<p>{escape(str(KINDS[spec.kind].label))} — {escape(spec.dataset.name)}: "
        + escape(_("%(rows)s bản ghi.") % {"rows": f"{info.rows:,}"})
        + "</p>"
        + _table([_("Kết quả"), _("Số"), _("Tỉ lệ")], classes)
        + f"<h2>{_('Liên kết theo cách')}</h2>"
        + _table([_("Cách"), _("Số")], methods)
        + "<p><small>"
        + _(
            "Liên kết khi bằng chứng (trọng số trừ tiên nghiệm) ≥ %(link)s bit và hơn mọi ứng "
            "viên khác %(margin)s bit; đối soát từ %(review)s bit."
        )
        % {"link": f"{LINK_EVIDENCE:g}", "margin": f"{MARGIN:g}", "review": f"{REVIEW_EVIDENCE:g}"}
        + "</small></p>"
    )


def _histogram(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        f"SELECT floor(match_weight / {BIN}) * {BIN} AS bin, class, count(*) FROM results "
        "WHERE match_weight IS NOT NULL GROUP BY ALL ORDER BY 1"
    ).fetchall()
    if not rows:
        return f"<h2>{_('Phân bố trọng số')}</h2><p>{_('Không có cặp được chấm điểm.')}</p>"
    bins = sorted({r[0] for r in rows})
    stacks = {b: {c: 0 for c in CLASSES} for b in bins}
    for b, cls, n in rows:
        stacks[b][cls] = n
    peak = max(sum(s.values()) for s in stacks.values())
    width, height, bar = 640, 220, 640 / len(bins)
    shapes = []
    for i, b in enumerate(bins):
        y = float(height)
        for cls in CLASSES:
            h = stacks[b][cls] / peak * (height - 20)
            if h:
                y -= h
                shapes.append(
                    f'<rect x="{i * bar:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[cls]}"><title>{b:g}…{b + BIN:g}: {stacks[b][cls]:,} '
                    f"{cls}</title></rect>"
                )
        if i % max(1, len(bins) // 10) == 0:
            shapes.append(f'<text x="{i * bar:.1f}" y="{height + 14}" font-size="11">{b:g}</text>')
    legend = " ".join(
        f'<span style="color:{COLOURS[c]}">■</span> {CLASS_LABELS[c]}' for c in CLASSES
    )
    return (
        f"<h2>{_('Phân bố trọng số')}</h2>"
        f'<svg width="{width}" height="{height + 20}" role="img" aria-label="histogram">'
        + "".join(shapes)
        + f"</svg><p>{legend}</p><p><small>"
        + _("Bản ghi theo trọng số của cặp tốt nhất (log2 của tỉ số khả năng).")
        + "</small></p>"
    )


def _contributions(con: duckdb.DuckDBPyConnection) -> str:
    averages = ", ".join(f"round(avg(c.w_{f}), 2)" for f in COMPARISONS)
    rows = con.execute(
        f"SELECT s.class, count(*), {averages} FROM results s "
        "JOIN candidates c ON c.rec_id = s.rec_id AND c.pin = s.pin GROUP BY 1 ORDER BY 1"
    ).fetchall()
    head = [_("Kết quả"), _("Cặp"), *(str(COMPARISON_LABELS[f]) for f in COMPARISONS)]
    return (
        f"<h2>{_('Đóng góp của từng trường')}</h2><p><small>"
        + _("Trọng số trung bình mỗi trường góp vào cặp được chọn (dương: ủng hộ, âm: phản đối).")
        + "</small></p>"
        + _table(head, [[CLASS_LABELS[r[0]], *r[1:]] for r in rows])
    )


def _examples(con: duckdb.DuckDBPyConnection) -> str:
    parts = [f"<h2>{_('Ví dụ')}</h2>"]
    for cls in CLASSES:
        rows = con.execute(
            "SELECT r.unique_id, r.full_name, r.dob, r.birth_year, g.full_name, g.dob, s.match_weight, s.method "
            "FROM results s JOIN records r ON r.unique_id = s.rec_id "
            "LEFT JOIN registry g ON g.unique_id = s.pin WHERE s.class = ? "
            "ORDER BY hash(s.rec_id) LIMIT ?",
            [cls, EXAMPLES],
        ).fetchall()
        table = [
            [rec, name, dob or year, citizen, cdob, weight, METHOD_LABELS.get(method, method)]
            for rec, name, dob, year, citizen, cdob, weight, method in rows
        ]
        parts.append(
            f"<h3>{CLASS_LABELS[cls]}</h3>"
            + _table(
                [
                    _("Mã"),
                    _("Họ tên"),
                    _("Sinh"),
                    _("Công dân"),
                    _("Sinh"),
                    _("Trọng số"),
                    _("Cách"),
                ],
                table,
            )
        )
    return "".join(parts)


def _parameters(model_json: Path) -> str:
    if not model_json.exists():  # every record was answered without the model
        return ""
    settings = json.loads(model_json.read_text())
    rows = []
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            rows.append(
                [
                    COMPARISON_LABELS.get(
                        comparison["output_column_name"], comparison["output_column_name"]
                    ),
                    level.get("label_for_charts", level["sql_condition"]),
                    m,
                    u,
                ]
            )
    return (
        f"<h2>{_('Mô hình đã học')}</h2><p><small>"
        + _(
            "m: tỉ lệ ở các cặp đúng, u: ở các cặp ngẫu nhiên (ước lượng EM và lấy mẫu ngẫu nhiên)."
        )
        + "</small></p>"
        + _table([_("Trường"), _("Mức"), "m", "u"], rows)
    )
