"""Request facts every audit event needs (request id, client IP), and the body-size guard."""

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from governance.core.problems import problem_response

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_MACHINE_PREFIXES = ("/api/", "/webhooks/")
_ADMISSION_PREFIX = "/webhooks/k8s/admission"


# Evidence uploads have their own limit (EVIDENCE_MAX_BYTES for the file) plus room for the
# multipart envelope and the form fields; every other machine route keeps the generic limit.
_EVIDENCE_UPLOAD = re.compile(r"^/api/v1/systems/[^/]+/controls/[^/]+/evidence/?$")
MULTIPART_OVERHEAD_BYTES = 64 * 1024


def body_limit(request: HttpRequest) -> int:
    """The largest body a request may carry: the API server's own limit for admission reviews
    (an UPDATE carries object and oldObject), the evidence limit for evidence uploads, the
    general limit everywhere else."""
    if request.path.startswith(_ADMISSION_PREFIX):
        return max(settings.K8S_ADMISSION_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if request.method == "POST" and _EVIDENCE_UPLOAD.match(request.path):
        return max(
            settings.EVIDENCE_MAX_BYTES + MULTIPART_OVERHEAD_BYTES,
            settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        )
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


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
            # PostgreSQL stores and compares no NUL in text: a 400 here, not a 500 in a query.
            if "\x00" in request.META.get("QUERY_STRING", "") or any(
                "\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()
            ):
                response = problem_response(
                    status=400,
                    title="Invalid request",
                    detail="Query parameters may not contain the NUL character.",
                    instance=request.path,
                    request_id=request.request_id,
                )
                response["X-Request-ID"] = request.request_id
                return response
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = body_limit(request)
            if length > limit:
                response = problem_response(
                    status=413,
                    title="Request body too large",
                    detail=f"The body is {length} bytes; the limit is {limit} bytes.",
                    instance=request.path,
                    request_id=request.request_id,
                )
                response["X-Request-ID"] = request.request_id
                return response
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
