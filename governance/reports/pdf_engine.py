"""WeasyPrint, loaded only where a PDF is rendered: it needs Pango and HarfBuzz from the system,
and the rest of the product (migrate, the web UI, the API) must run without them."""

from __future__ import annotations

from typing import Any

# The one line that installs what WeasyPrint needs on Debian and Ubuntu.
APT_LINE = "sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"


class PdfEngineUnavailable(RuntimeError):
    """WeasyPrint cannot load its system libraries."""


def weasyprint() -> Any:
    """The weasyprint module, or PdfEngineUnavailable naming the apt line."""
    try:
        import weasyprint as module
        from weasyprint.text import fonts  # noqa: F401 (loads the font stack too)
    except (OSError, ImportError) as exc:
        raise PdfEngineUnavailable(
            f"PDF rendering needs Pango and HarfBuzz ({exc.__class__.__name__}: "
            f"{str(exc)[:200]}). Install them with: {APT_LINE}"
        ) from exc
    return module


def pdf_engine_problem() -> str:
    """Empty when PDFs can be rendered here; else what is missing and how to install it."""
    try:
        weasyprint()
    except PdfEngineUnavailable as exc:
        return str(exc)
    return ""


if __name__ == "__main__":  # `make run` asks before serving
    problem = pdf_engine_problem()
    if problem:
        print("WARNING: compliance PDFs will fail until the system libraries are installed.")
        print(problem)
