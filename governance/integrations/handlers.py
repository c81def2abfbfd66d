"""Process one stored delivery: dispatch by registry, record the outcome."""

from typing import Any

from django.core.exceptions import ValidationError

from governance.core.errors import DomainError
from governance.integrations.hub_events import hub_delivery_handle
from governance.integrations.mlflow_api import RegistryError
from governance.integrations.mlflow_events import mlflow_delivery_handle
from governance.integrations.models import DeliveryStatus, RegistryDelivery, RegistryKind
from governance.integrations.sagemaker_events import sagemaker_delivery_handle
from governance.integrations.services import registry_delivery_finish


def registry_delivery_process(*, delivery_pk: int) -> dict[str, Any]:
    delivery = RegistryDelivery.objects.select_related("integration").get(pk=delivery_pk)
    if delivery.status != DeliveryStatus.RECEIVED:
        return {"status": delivery.status, "detail": "already processed"}
    handle = {
        RegistryKind.MLFLOW: mlflow_delivery_handle,
        RegistryKind.HUGGINGFACE: hub_delivery_handle,
        RegistryKind.SAGEMAKER: sagemaker_delivery_handle,
    }[delivery.integration.kind]
    try:
        outcome = handle(delivery)
    except (RegistryError, DomainError, ValidationError) as exc:
        detail = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        registry_delivery_finish(
            delivery_pk=delivery_pk, status=DeliveryStatus.FAILED, detail=detail
        )
        return {"status": DeliveryStatus.FAILED, "detail": detail}
    registry_delivery_finish(
        delivery_pk=delivery_pk,
        status=outcome.status,
        detail=outcome.detail,
        model_version=outcome.model_version,
        decision=outcome.decision,
    )
    return {"status": outcome.status, "detail": outcome.detail}
