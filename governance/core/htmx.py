"""The one convention for HTMX forms: invalid input answers 422 with the fragment that shows
the field errors; static/js/app.js tells htmx to swap 422 in place like a success and to
announce every other failed update. A full-page form post keeps answering 400."""

from django.http import HttpRequest


def invalid_input_status(request: HttpRequest) -> int:
    return 422 if getattr(request, "htmx", False) else 400
