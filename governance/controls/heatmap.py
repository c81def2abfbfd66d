"""The coverage heatmap as server-side SVG: one row per function, one cell per category.

Plain SVG with inline styles and no script, so the web UI and the WeasyPrint PDF reports draw the
same picture.
"""

from collections.abc import Callable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from governance.controls.coverage import SystemCoverage, Tally

CELL_W, CELL_H, GAP, LABEL_W, HEADER_H = 92, 44, 6, 96, 6
NONE_FILL = "#e5e7eb"
# NIST's own short forms (as in the AI 600-1 action ids: GV-1.1-001, MP-…, MS-…, MG-…).
SHORT = {"GOVERN": "GV", "MAP": "MP", "MEASURE": "MS", "MANAGE": "MG"}


def share_fill(share: float | None) -> str:
    """Red under 40 %, amber under 80 %, green from 80 %; grey when nothing is required."""
    if share is None:
        return NONE_FILL
    if share < 0.4:
        return "#f4a6a0" if share > 0 else "#e0554b"
    if share < 0.8:
        return "#f6c667"
    return "#5cb87a"


def _percent(tally: Tally) -> str:
    return "n/a" if tally.share is None else f"{round(tally.share * 100)}%"


def category_anchor(category: str) -> str:
    """The id of a category's first row in the system page's controls table."""
    return "cat-" + "-".join(category.lower().split())


def coverage_heatmap_svg(
    coverage: SystemCoverage,
    layout: list[tuple[str, list[str]]],
    link: Callable[[str], str] | None = None,
) -> SafeString:
    """``link(category)``, when given, makes each tile a link (to that category's controls)."""
    columns = max((len(categories) for _, categories in layout), default=0)
    width = LABEL_W + columns * (CELL_W + GAP)
    height = HEADER_H + len(layout) * (CELL_H + GAP)
    title = f"NIST AI RMF coverage of {coverage.system.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="heatmap" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for row, (function, categories) in enumerate(layout):
        y = HEADER_H + row * (CELL_H + GAP)
        fn_tally = coverage.functions.get(function, Tally())
        parts.append(
            f'<text x="0" y="{y + 18}" font-weight="700" fill="#111827">{escape(function)}</text>'
            f'<text x="0" y="{y + 34}" fill="#4b5563">{_percent(fn_tally)}</text>'
        )
        for col, category in enumerate(categories):
            x = LABEL_W + col * (CELL_W + GAP)
            tally = coverage.categories.get(category, Tally())
            label = category.split(" ", 1)[1] if " " in category else category
            detail = (
                f"{category}: {tally.implemented} of {tally.applicable} implemented"
                if tally.required
                else f"{category}: not required for this tier"
            )
            if link is not None:
                parts.append(f'<a href="{escape(link(category))}">')
            parts.append(
                f"<g><title>{escape(detail)}</title>"
                f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" rx="6" '
                f'fill="{share_fill(tally.share)}"/>'
                f'<text x="{x + 8}" y="{y + 18}" font-weight="600" fill="#111827">'
                f"{escape(SHORT.get(function, function))} {escape(label)}</text>"
                f'<text x="{x + 8}" y="{y + 34}" fill="#111827">'
                f"{tally.implemented}/{tally.applicable} · {_percent(tally)}</text></g>"
            )
            if link is not None:
                parts.append("</a>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
