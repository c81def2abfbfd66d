"""Error pages: problem+json under /api/ and /webhooks/, HTML elsewhere."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.core.problems import problem_response

_MACHINE_PREFIXES = ("/api/", "/webhooks/")
_TITLES = {400: "Bad request", 403: "Permission denied", 404: "Not found", 500: "Server error"}


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if request.path.startswith(_MACHINE_PREFIXES):
        return problem_response(
            status=status,
            title=_TITLES[status],
            detail=detail,
            instance=request.path,
            request_id=getattr(request, "request_id", ""),
        )
    context = {"status": status, "title": _TITLES[status], "detail": detail}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, 400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, 403, "Your role does not allow this page or action.")


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _error(request, 404, "There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Something went wrong on our side; the error was logged.")
