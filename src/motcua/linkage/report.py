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

from motcua.linkage.dataset import KINDS, DatasetInfo
from motcua.linkage.resolve import CLASSES, COMPARISONS, LINK_EVIDENCE, MARGIN, REVIEW_EVIDENCE

if TYPE_CHECKING:
    from motcua.linkage.pipeline import LinkSpec

EXAMPLES = 5
BIN = 2.0  # match weight per histogram bar
COLOURS = {"linked": "#2e7d32", "review": "#f9a825", "unlinked": "#9e9e9e"}
CLASS_LABELS = {
    "linked": "Liên kết / linked",
    "review": "Cần đối soát / review",
    "unlinked": "Không liên kết / unlinked",
}
FIELD_LABELS = {
    "family": "Họ / family name",
    "middle": "Tên đệm / middle name",
    "given": "Tên / given name",
    "dob": "Ngày sinh / date of birth",
    "sex": "Giới tính / sex",
    "cmnd": "Số CMND / old ID",
    "place": "Nơi ở / ward, province",
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
    title = "Báo cáo liên kết dữ liệu / linkage report"
    path.write_text(
        f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>{title}</title>'
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
    methods = [[m, n] for m, n in counts["method"].items()]
    return (
        f"<p>{escape(KINDS[spec.kind].label)} — {escape(spec.dataset.name)}: "
        f"{info.rows:,} bản ghi / records.</p>"
        + _table(["Kết quả / class", "Số / count", "Tỉ lệ / share"], classes)
        + "<h2>Liên kết theo cách / links by method</h2>"
        + _table(["Cách / method", "Số / count"], methods)
        + f"<p><small>Liên kết khi bằng chứng (trọng số trừ tiên nghiệm) ≥ {LINK_EVIDENCE:g} bit và "
        f"hơn mọi ứng viên khác {MARGIN:g} bit; đối soát từ {REVIEW_EVIDENCE:g} bit. / Linked when "
        f"the fields' evidence (match weight less the prior) is ≥ {LINK_EVIDENCE:g} bits and "
        f"{MARGIN:g} bits ahead of any rival; review from {REVIEW_EVIDENCE:g} bits.</small></p>"
    )


def _histogram(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        f"SELECT floor(match_weight / {BIN}) * {BIN} AS bin, class, count(*) FROM results "
        "WHERE match_weight IS NOT NULL GROUP BY ALL ORDER BY 1"
    ).fetchall()
    if not rows:
        return "<h2>Phân bố trọng số / match weights</h2><p>Không có cặp được chấm điểm / no scored pairs.</p>"
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
        "<h2>Phân bố trọng số / match weights</h2>"
        f'<svg width="{width}" height="{height + 20}" role="img" aria-label="histogram">'
        + "".join(shapes)
        + f"</svg><p>{legend}</p><p><small>Bản ghi theo trọng số của cặp tốt nhất (log2 của tỉ số "
        "khả năng) / records by the match weight of their best pair.</small></p>"
    )


def _contributions(con: duckdb.DuckDBPyConnection) -> str:
    averages = ", ".join(f"round(avg(c.w_{f}), 2)" for f in COMPARISONS)
    rows = con.execute(
        f"SELECT s.class, count(*), {averages} FROM results s "
        "JOIN candidates c ON c.rec_id = s.rec_id AND c.pin = s.pin GROUP BY 1 ORDER BY 1"
    ).fetchall()
    head = ["Kết quả / class", "Cặp / pairs", *(FIELD_LABELS[f] for f in COMPARISONS)]
    return (
        "<h2>Đóng góp của từng trường / how each field contributed</h2>"
        "<p><small>Trọng số trung bình mỗi trường góp vào cặp được chọn (dương: ủng hộ, âm: phản "
        "đối). / Average match weight each field added to the chosen pair.</small></p>"
        + _table(head, [[CLASS_LABELS[r[0]], *r[1:]] for r in rows])
    )


def _examples(con: duckdb.DuckDBPyConnection) -> str:
    parts = ["<h2>Ví dụ / examples</h2>"]
    for cls in CLASSES:
        rows = con.execute(
            "SELECT r.unique_id, r.full_name, r.dob, r.birth_year, g.full_name, g.dob, s.match_weight, s.method "
            "FROM results s JOIN records r ON r.unique_id = s.rec_id "
            "LEFT JOIN registry g ON g.unique_id = s.pin WHERE s.class = ? "
            "ORDER BY hash(s.rec_id) LIMIT ?",
            [cls, EXAMPLES],
        ).fetchall()
        table = [
            [rec, name, dob or year, citizen, cdob, weight, method]
            for rec, name, dob, year, citizen, cdob, weight, method in rows
        ]
        parts.append(
            f"<h3>{CLASS_LABELS[cls]}</h3>"
            + _table(
                [
                    "Mã / id",
                    "Họ tên / name",
                    "Sinh / born",
                    "Công dân / citizen",
                    "Sinh / born",
                    "Trọng số / weight",
                    "Cách / method",
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
                    FIELD_LABELS.get(
                        comparison["output_column_name"], comparison["output_column_name"]
                    ),
                    level.get("label_for_charts", level["sql_condition"]),
                    m,
                    u,
                ]
            )
    return (
        "<h2>Mô hình đã học / the trained model</h2><p><small>m: tỉ lệ ở các cặp đúng, u: ở các "
        "cặp ngẫu nhiên (ước lượng EM và lấy mẫu ngẫu nhiên). / m: share among true pairs, u: "
        "among random pairs (EM and random sampling).</small></p>"
        + _table(["Trường / field", "Mức / level", "m", "u"], rows)
    )
