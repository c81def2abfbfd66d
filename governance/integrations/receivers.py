"""POST /webhooks/mlflow/<integration>: MLflow registry webhooks, verified before anything is
stored. Bad or missing signature 401, stale timestamp 401, repeated delivery id 409, invalid
JSON 400; an unknown or paused integration is 401 too (there is no secret to verify against,
and the answer does not tell which integrations exist). A verified delivery is stored and
answered 202. The Hub's and SageMaker's (EventBridge) receivers follow below."""

import hmac
import json

from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from governance.core.actor import Actor
from governance.core.jsonbody import JsonInvalid, parse_json
from governance.core.problems import problem_response
from governance.integrations.hub_events import hub_delivery_id
from governance.integrations.mlflow_signature import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRefused,
    mlflow_verify,
)
from governance.integrations.models import Integration, RegistryDelivery, RegistryKind
from governance.integrations.sagemaker_events import sagemaker_event_problem
from governance.integrations.secrets import integration_secret
from governance.integrations.services import DeliveryReplayed, registry_delivery_receive

API_KEY_HEADER = "X-Api-Key"  # the API key name of the EventBridge connection


def _problem(request: HttpRequest, status: int, title: str, detail: str) -> JsonResponse:
    return problem_response(
        status=status,
        title=title,
        detail=detail,
        instance=request.path,
        request_id=getattr(request, "request_id", ""),
    )


@method_decorator(csrf_exempt, name="dispatch")
class MlflowWebhookView(View):
    """Machines only: the signature is the authentication (no session, no token)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> JsonResponse:
        integration = Integration.objects.filter(
            slug=slug, kind=RegistryKind.MLFLOW, active=True
        ).first()
        if integration is None:
            return _problem(
                request, 401, "Signature refused", "No active MLflow integration verifies this."
            )
        body = request.body
        delivery_id = request.headers.get(DELIVERY_ID_HEADER, "")
        try:
            mlflow_verify(
                secret=integration_secret(integration),
                delivery_id=delivery_id,
                timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
                signature=request.headers.get(SIGNATURE_HEADER, ""),
                body=body,
            )
        except SignatureRefused as exc:
            return _problem(request, 401, "Signature refused", str(exc))
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return _problem(request, 400, "Invalid request", "The body is not JSON.")
        if not isinstance(payload, dict):
            return _problem(request, 400, "Invalid request", "The body is not a JSON object.")
        event = f"{payload.get('entity', '')}.{payload.get('action', '')}"
        actor = Actor.system(f"mlflow:{integration.slug}")
        try:
            delivery = registry_delivery_receive(
                actor=actor,
                integration=integration,
                delivery_id=delivery_id,
                event=event,
                payload=payload,
            )
        except DeliveryReplayed as exc:
            return _problem(request, 409, exc.title, exc.detail)
        delivery.refresh_from_db()
        return JsonResponse(
            {"delivery": delivery.pk, "event": event, "status": delivery.status}, status=202
        )


@method_decorator(csrf_exempt, name="dispatch")
class HubWebhookView(View):
    """Hugging Face Hub webhooks: the ``X-Webhook-Secret`` header, compared in constant time.
    Wrong or missing secret (or an unknown or paused integration) 401, a push already received
    (same repository, commit and scope) 409, invalid JSON 400; otherwise stored and 202."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> JsonResponse:
        integration = Integration.objects.filter(
            slug=slug, kind=RegistryKind.HUGGINGFACE, active=True
        ).first()
        expected = integration_secret(integration) if integration else ""
        given = request.headers.get("X-Webhook-Secret", "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return _problem(request, 401, "Secret refused", "X-Webhook-Secret does not match.")
        try:
            payload = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return _problem(request, 400, "Invalid request", "The body is not JSON.")
        if not isinstance(payload, dict):
            return _problem(request, 400, "Invalid request", "The body is not a JSON object.")
        event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
        try:
            delivery = registry_delivery_receive(
                actor=Actor.system(f"huggingface:{integration.slug}"),
                integration=integration,
                delivery_id=hub_delivery_id(payload),
                event=f"{event.get('scope', '')}.{event.get('action', '')}",
                payload=payload,
            )
        except DeliveryReplayed as exc:
            return _problem(request, 409, exc.title, exc.detail)
        delivery.refresh_from_db()
        return JsonResponse(
            {"delivery": delivery.pk, "event": delivery.event, "status": delivery.status},
            status=202,
        )


@method_decorator(csrf_exempt, name="dispatch")
class SageMakerEventView(View):
    """EventBridge API destination deliveries of SageMaker events. The connection's API key
    arrives in ``X-Api-Key`` and is compared in constant time: wrong or missing (or an unknown
    or paused integration) 401, nothing stored. A body that is not an EventBridge event 400.
    An event id already received is answered 200 and not stored again (EventBridge delivers at
    least once, and a 4xx would send the retry to its dead-letter queue); otherwise 202."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> JsonResponse:
        integration = Integration.objects.filter(
            slug=slug, kind=RegistryKind.SAGEMAKER, active=True
        ).first()
        expected = integration_secret(integration) if integration else ""
        given = request.headers.get(API_KEY_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return _problem(request, 401, "API key refused", f"{API_KEY_HEADER} does not match.")
        try:
            payload = parse_json(request.body)
        except JsonInvalid as exc:
            return _problem(request, 400, "Invalid request", str(exc))
        problem = sagemaker_event_problem(payload)
        if problem:
            return _problem(request, 400, "Invalid event", problem)
        try:
            delivery = registry_delivery_receive(
                actor=Actor.system(f"sagemaker:{integration.slug}"),
                integration=integration,
                delivery_id=payload["id"],
                event=payload["detail-type"],
                payload=payload,
            )
        except DeliveryReplayed:
            first = RegistryDelivery.objects.get(integration=integration, delivery_id=payload["id"])
            return JsonResponse(
                {"delivery": first.pk, "status": first.status, "duplicate": True}, status=200
            )
        delivery.refresh_from_db()
        return JsonResponse(
            {"delivery": delivery.pk, "event": delivery.event, "status": delivery.status},
            status=202,
        )
