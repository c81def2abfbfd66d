"""RFC 9457 problem details for every API error.

Field errors travel in the ``errors`` extension member as ``{"pointer": "#/field", "detail": ...}``,
the shape of the RFC's own example.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from governance.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _pointer(path: str) -> str:
    return "#/" + path.replace(".", "/") if path and path != "non_field_errors" else "#"


def _flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error dicts and lists, as a flat list of pointer + message."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            out.extend(_flatten(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"pointer": _pointer(path), "detail": str(item)} for item in detail]
        out = []
        for index, item in enumerate(detail):
            out.extend(_flatten(item, f"{path}.{index}" if path else str(index)))
        return out
    return [{"pointer": _pointer(path), "detail": str(detail)}]


_UNKNOWN_REFERENCE_CODES = {"does_not_exist"}


def _codes(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [c for value in detail.values() for c in _codes(value)]
    if isinstance(detail, list):
        return [c for item in detail for c in _codes(item)]
    return [getattr(detail, "code", "") or ""]


def _only_unknown_references(detail: Any) -> bool:
    """True when every error is a related field's "does not exist" (a slug or id that names
    no object): such a request is a 404, like an unknown object in the path."""
    codes = _codes(detail)
    return bool(codes) and all(code in _UNKNOWN_REFERENCE_CODES for code in codes)


def problem_body(
    *,
    status: int,
    title: str,
    detail: str = "",
    type_: str = "about:blank",
    instance: str = "",
    errors: list[dict[str, str]] | None = None,
    request_id: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    if request_id:
        body["request_id"] = request_id
    return body


def problem_response(**kwargs: Any) -> JsonResponse:
    """A problem+json response outside DRF (middleware, plain Django views)."""
    return JsonResponse(
        problem_body(**kwargs), status=kwargs["status"], content_type=PROBLEM_CONTENT_TYPE
    )


_TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error leaves as application/problem+json."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    request_id = getattr(request, "request_id", "") if request is not None else ""
    headers: dict[str, str] = {}
    errors: list[dict[str, str]] | None = None
    type_ = "about:blank"

    if isinstance(exc, DomainError):
        code, title, detail = exc.status, exc.title, exc.detail
        type_ = f"urn:governance:problem:{exc.code}"
        errors = _flatten(exc.errors) if exc.errors else None
    elif isinstance(exc, DjangoValidationError):
        code, title = 400, "Invalid request"
        detail = "The request has invalid fields."
        raw = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        errors = _flatten(raw)
    elif isinstance(exc, RequestDataTooBig):
        code, title, detail = 413, _TITLES[413], str(exc)
    elif isinstance(exc, Http404):
        code, title, detail = 404, _TITLES[404], "No such object."
    elif isinstance(exc, DjangoPermissionDenied):
        code, title, detail = 403, _TITLES[403], str(exc) or "You may not do this."
    elif isinstance(exc, exceptions.APIException):
        code = exc.status_code
        title = _TITLES.get(code, "Error")
        if isinstance(exc, exceptions.ValidationError):
            detail = "The request has invalid fields."
            errors = _flatten(exc.detail)
            if _only_unknown_references(exc.detail):
                # Every complaint is "no such object": unknown objects are 404 (DESIGN rule 4).
                code, title = 404, _TITLES[404]
                detail = "The request names objects that do not exist."
        else:
            detail = str(exc.detail)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            authenticator = (
                request.authenticators[0] if request and request.authenticators else None
            )
            header = authenticator.authenticate_header(request) if authenticator else None
            if header:
                headers["WWW-Authenticate"] = header
            else:
                code = status.HTTP_403_FORBIDDEN
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None

    set_rollback()
    response = Response(
        problem_body(
            status=code,
            title=title,
            detail=detail,
            type_=type_,
            instance=instance,
            errors=errors,
            request_id=request_id,
        ),
        status=code,
        headers=headers,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    return response
