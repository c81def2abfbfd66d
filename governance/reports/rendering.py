"""From a report's scope to a PDF: build each section, draw the print template, let WeasyPrint
lay it out. Pure functions of the database and their arguments; services.py stores the result."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from governance.reports.pdf_engine import weasyprint
from governance.reports.sections import SECTIONS, BuiltSection, ReportScope

Progress = Callable[[int, str], None]

# Share of the progress bar each stage ends at; sections share what is before HTML_DONE.
SECTIONS_DONE, HTML_DONE, LAYOUT_DONE, WRITTEN = 55, 60, 90, 97


@dataclass(frozen=True)
class RenderedPdf:
    pages: int
    outline: list[dict[str, Any]]


def sections_build(scope: ReportScope, progress: Progress) -> list[BuiltSection]:
    """Every section that applies to the scope and has something to say, in print order."""
    wanted = [s for s in SECTIONS if scope.kind in s.kinds]
    built = []
    for index, section in enumerate(wanted, start=1):
        content = section.build(scope)
        if content is not None:
            built.append(BuiltSection(section.key, section.title, section.template, content))
        progress(5 + (SECTIONS_DONE - 5) * index // len(wanted), f"Gathered {section.title}")
    return built


def report_html(
    *, scope: ReportScope, title: str, author: str, sections: list[BuiltSection]
) -> str:
    summary = [line for s in sections for line in s.content.summary]
    return render_to_string(
        "reports/print/report.html",
        {
            "scope": scope,
            "title": title,
            "author": author,
            "sections": sections,
            "summary": summary,
        },
    )


def pdf_write(html: str, *, target: Path, progress: Progress) -> RenderedPdf:
    """Lay the document out and write it to ``target`` (a temporary file the caller owns)."""
    engine = weasyprint()  # imported here, not when the app loads (see pdf_engine)
    from weasyprint.text.fonts import FontConfiguration

    document = engine.HTML(string=html, base_url=str(settings.BASE_DIR)).render(
        font_config=FontConfiguration()
    )
    progress(LAYOUT_DONE, f"Laid out {len(document.pages)} pages")
    # <link rel="attachment" title="NAME"> with a data: URL has no file name of its own.
    for attachment in document.metadata.attachments:
        attachment.name = attachment.name or attachment.description
    # PDF/UA-1: tagged structure, language and title, so screen readers can read the report.
    document.write_pdf(target=str(target), pdf_variant="pdf/ua-1")
    progress(WRITTEN, "Wrote the PDF")
    return RenderedPdf(pages=len(document.pages), outline=_outline(document.make_bookmark_tree()))


def _outline(tree: list[Any]) -> list[dict[str, Any]]:
    return [
        {"title": label, "page": destination[0] + 1, "children": _outline(children)}
        for label, destination, children, _state in tree
    ]
