"""Request facts every audit event needs (request id, client IP), and the body-size guard."""

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from governance.core.problems import problem_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MACHINE_PREFIXES = ("/api/", "/webhooks/")


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the address the last trusted proxy saw when proxies are configured."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if len(addresses) >= hops:
            return addresses[-hops]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Give each request an id (kept from X-Request-ID when well formed) and its client IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.client_ip = client_ip(request)
        if request.path.startswith(_MACHINE_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                response = problem_response(
                    status=413,
                    title="Request body too large",
                    detail=f"The body is {length} bytes; the limit is "
                    f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                    instance=request.path,
                    request_id=request.request_id,
                )
                response["X-Request-ID"] = request.request_id
                return response
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
