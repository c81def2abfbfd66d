"""Inbound webhook endpoints: Kubernetes admission (Bearer token, policy.check) and GitHub
deployment protection rules (X-Hub-Signature-256)."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.accounts.throttling import ADMISSION
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.jsonbody import JsonInvalid, parse_json
from governance.core.problems import problem_response
from governance.webhooks.k8s import admission_review
from governance.webhooks.services import github_delivery_receive
from governance.webhooks.signatures import github_signature_valid

logger = logging.getLogger(__name__)

GITHUB_EVENT = "deployment_protection_rule"


# What review_validate requires; the rest of the object is Kubernetes' own (passed through).
ADMISSION_REVIEW_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "request"],
    "properties": {
        "apiVersion": {"type": "string", "enum": ["admission.k8s.io/v1"]},
        "kind": {"type": "string", "enum": ["AdmissionReview"]},
        "request": {
            "type": "object",
            "required": ["uid"],
            "properties": {
                "uid": {"type": "string", "pattern": r"\S"},
                "object": {"type": "object", "nullable": True},
            },
        },
    },
}


def _raw_body(request: HttpRequest) -> bytes:
    """The body without Django's general size check: the middleware has already held it to
    the admission limit (the API server's own, 3 MiB by default)."""
    cached = getattr(request, "_body", None)
    return cached if cached is not None else request.read()


class KubernetesAdmissionView(APIView):
    """ValidatingAdmissionWebhook: may this workload's model version run here?"""

    required_permission = Perm.POLICY_CHECK
    # A budget of its own: the API server's rollouts must not spend (or be cut by) CI's checks.
    token_rate_bucket = ADMISSION
    governed_namespace = False

    @extend_schema(
        request={"application/json": ADMISSION_REVIEW_SCHEMA},
        responses={200: OpenApiTypes.OBJECT},
        summary="Kubernetes admission review (admission.k8s.io/v1)",
    )
    def post(self, request: Request) -> Response:
        try:
            review = parse_json(_raw_body(request._request))
        except JsonInvalid as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return Response(
            admission_review(
                actor=Actor.from_request(request),
                review=review,
                governed_namespace=self.governed_namespace,
            )
        )


class KubernetesGovernedNamespaceAdmissionView(KubernetesAdmissionView):
    """The same review, for the webhook scoped to governed namespaces: a workload there that
    names no AI system is refused."""

    governed_namespace = True

    @extend_schema(
        request={"application/json": ADMISSION_REVIEW_SCHEMA},
        responses={200: OpenApiTypes.OBJECT},
        summary="Kubernetes admission review in a governed namespace (admission.k8s.io/v1)",
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


def _problem(request: HttpRequest, status: int, title: str, detail: str) -> JsonResponse:
    return problem_response(
        status=status,
        title=title,
        detail=detail,
        instance=request.path,
        request_id=getattr(request, "request_id", ""),
    )


@method_decorator(csrf_exempt, name="dispatch")
class GitHubDeploymentProtectionView(View):
    """Receive a signed deployment_protection_rule event; the review runs in Celery (GitHub
    waits 10 seconds for an answer), so this answers 202 once the delivery is stored."""

    http_method_names = ["post"]

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = _problem(request, 405, "Method not allowed", "Use POST.")
        response["Allow"] = "POST"
        return response

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            body = request.body
        except RequestDataTooBig:
            return _problem(
                request,
                413,
                "Request body too large",
                f"The limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
            )
        signature = request.headers.get("X-Hub-Signature-256")
        if not github_signature_valid(settings.GITHUB_WEBHOOK_SECRET, body, signature):
            logger.warning(
                "github webhook refused: %s signature (delivery %s, from %s)",
                "missing" if not signature else "invalid",
                request.headers.get("X-GitHub-Delivery", "?")[:100],
                getattr(request, "client_ip", None),
            )
            return _problem(
                request,
                401,
                "Authentication required",
                "X-Hub-Signature-256 is missing or does not sign the body with the webhook secret.",
            )
        event = request.headers.get("X-GitHub-Event", "")
        if event == "ping":
            return JsonResponse({"ok": True})
        if event != GITHUB_EVENT:
            return JsonResponse(
                {"ignored": True, "detail": f"Only {GITHUB_EVENT} events are handled."},
                status=202,
            )
        delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
        if not delivery_id or len(delivery_id) > 200:
            return _problem(request, 400, "Invalid request", "X-GitHub-Delivery is required.")
        try:
            payload = parse_json(body)
        except JsonInvalid as exc:
            return _problem(request, 400, "Invalid request", str(exc))
        if not isinstance(payload, dict):
            return _problem(request, 400, "Invalid request", "The body is not a JSON object.")
        if payload.get("action") != "requested":
            return JsonResponse(
                {"ignored": True, "detail": "Only the requested action is handled."}, status=202
            )
        problems = [
            f"{key} is required."
            for key in ("environment", "deployment_callback_url")
            if not isinstance(payload.get(key), str) or not payload[key]
        ]
        if problems:
            return _problem(request, 400, "Invalid request", " ".join(problems))
        try:
            delivery = github_delivery_receive(
                delivery_id=delivery_id,
                event=event,
                payload=payload,
                request_id=getattr(request, "request_id", ""),
            )
        except Conflict as exc:
            return _problem(request, 409, "Conflict", exc.detail)
        return JsonResponse(
            {"delivery": delivery.delivery_id, "status": delivery.status}, status=202
        )
