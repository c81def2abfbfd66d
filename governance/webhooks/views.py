"""Inbound webhook endpoints: Kubernetes admission (Bearer token, policy.check) and GitHub
deployment protection rules (X-Hub-Signature-256)."""

import json
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
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.problems import problem_response
from governance.webhooks.k8s import admission_review
from governance.webhooks.services import github_delivery_receive
from governance.webhooks.signatures import github_signature_valid

logger = logging.getLogger(__name__)

GITHUB_EVENT = "deployment_protection_rule"


class KubernetesAdmissionView(APIView):
    """ValidatingAdmissionWebhook: may this workload's model version run here?"""

    required_permission = Perm.POLICY_CHECK

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
        summary="Kubernetes admission review (admission.k8s.io/v1)",
    )
    def post(self, request: Request) -> Response:
        return Response(admission_review(actor=Actor.from_request(request), review=request.data))


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
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _problem(request, 400, "Invalid request", "The body is not valid JSON.")
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
