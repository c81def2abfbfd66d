"""Configuring integrations (admins) and receiving deliveries; every change audited.

Secrets never enter an audit event or a page: the audit records only that one was set."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.core.outbound import OutboundRefused, outbound_validate_url
from governance.integrations.models import (
    AliasMapping,
    DeliveryStatus,
    Integration,
    ModelMapping,
    RegistryDelivery,
)
from governance.integrations.secrets import secret_seal
from governance.inventory.models import AISystem, Environment

_ENV_NAME = r"^[A-Z][A-Z0-9_]{1,99}$"


def _target(integration: Integration) -> Target:
    return Target("integrations.integration", integration.slug, integration.name)


def _snapshot(integration: Integration) -> dict[str, Any]:
    return {
        "kind": integration.kind,
        "name": integration.name,
        "endpoint": integration.endpoint,
        "secret": "environment:" + integration.secret_env
        if integration.secret_env
        else ("stored (sealed)" if integration.secret_sealed else "none"),
        "token_env": integration.token_env,
        "active": integration.active,
    }


def _check_env_name(field: str, value: str) -> None:
    import re

    if value and not re.match(_ENV_NAME, value):
        raise ValidationError({field: ["An environment variable name: A-Z, 0-9 and _."]})


def integration_create(
    *,
    actor: Actor,
    slug: str,
    kind: str,
    name: str,
    endpoint: str,
    secret: str = "",
    secret_env: str = "",
    token_env: str = "",
) -> Integration:
    """A registry endpoint; the webhook secret is given once (sealed) or named by variable."""
    if bool(secret) == bool(secret_env):
        raise ValidationError(
            {"secret": ["Give the webhook secret, or the environment variable holding it."]}
        )
    if secret and len(secret) < 16:
        raise ValidationError({"secret": ["Use at least 16 characters."]})
    _check_env_name("secret_env", secret_env)
    _check_env_name("token_env", token_env)
    try:
        outbound_validate_url(endpoint)
    except OutboundRefused as exc:
        raise ValidationError({"endpoint": [str(exc)]}) from None
    integration = Integration(
        slug=slug,
        kind=kind,
        name=name,
        endpoint=endpoint,
        secret_env=secret_env,
        secret_sealed=secret_seal(secret) if secret else "",
        token_env=token_env,
        created_by=actor.label,
    )
    integration.full_clean()
    with transaction.atomic():
        integration.save()
        audit_record(
            actor=actor,
            action="integrations.integration.created",
            target=_target(integration),
            after=_snapshot(integration),
        )
    return integration


def integration_set_secret(
    *, actor: Actor, integration: Integration, secret: str, reason: str
) -> Integration:
    if len(secret) < 16:
        raise ValidationError({"secret": ["Use at least 16 characters."]})
    if not reason.strip():
        raise ValidationError({"reason": ["Rotating a secret needs a reason."]})
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        before = _snapshot(locked)
        locked.secret_sealed, locked.secret_env = secret_seal(secret), ""
        locked.save(update_fields=["secret_sealed", "secret_env"])
        audit_record(
            actor=actor,
            action="integrations.integration.secret_rotated",
            target=_target(locked),
            before=before,
            after=_snapshot(locked),
            reason=reason,
        )
    return locked


def integration_set_active(
    *, actor: Actor, integration: Integration, active: bool, reason: str
) -> Integration:
    if not reason.strip():
        raise ValidationError({"reason": ["Say why."]})
    with transaction.atomic():
        locked = Integration.objects.select_for_update().get(pk=integration.pk)
        if locked.active == active:
            return locked
        locked.active = active
        locked.save(update_fields=["active"])
        audit_record(
            actor=actor,
            action="integrations.integration." + ("activated" if active else "paused"),
            target=_target(locked),
            before={"active": not active},
            after={"active": active},
            reason=reason,
        )
    return locked


def model_mapping_add(
    *, actor: Actor, integration: Integration, registry_model: str, system: AISystem
) -> ModelMapping:
    registry_model = registry_model.strip()
    if not registry_model:
        raise ValidationError({"registry_model": ["Name the registry model."]})
    if system.archived_at is not None:
        raise Conflict(f"{system.slug} is archived; its registry models are not mapped any more.")
    mapping = ModelMapping(integration=integration, registry_model=registry_model, system=system)
    try:
        with transaction.atomic():
            mapping.save()
            audit_record(
                actor=actor,
                action="integrations.model_mapping.added",
                target=_target(integration),
                after={"registry_model": registry_model, "system": system.slug},
            )
    except IntegrityError:
        raise Conflict(f"{registry_model} is already mapped on {integration.slug}.") from None
    return mapping


def alias_mapping_add(
    *, actor: Actor, integration: Integration, alias: str, environment: str
) -> AliasMapping:
    alias = alias.strip()
    if not alias:
        raise ValidationError({"alias": ["Name the alias."]})
    if environment not in Environment.values:
        raise ValidationError({"environment": [f"Choose from {', '.join(Environment.values)}."]})
    mapping = AliasMapping(integration=integration, alias=alias, environment=environment)
    try:
        with transaction.atomic():
            mapping.save()
            audit_record(
                actor=actor,
                action="integrations.alias_mapping.added",
                target=_target(integration),
                after={"alias": alias, "environment": environment},
            )
    except IntegrityError:
        raise Conflict(f"Alias {alias} is already mapped on {integration.slug}.") from None
    return mapping


def mapping_remove(*, actor: Actor, mapping: ModelMapping | AliasMapping, reason: str = "") -> None:
    kind = "model_mapping" if isinstance(mapping, ModelMapping) else "alias_mapping"
    before = (
        {"registry_model": mapping.registry_model, "system": mapping.system.slug}
        if isinstance(mapping, ModelMapping)
        else {"alias": mapping.alias, "environment": mapping.environment}
    )
    with transaction.atomic():
        integration = mapping.integration
        mapping.delete()
        audit_record(
            actor=actor,
            action=f"integrations.{kind}.removed",
            target=_target(integration),
            before=before,
            reason=reason,
        )


class DeliveryReplayed(Conflict):
    code = "delivery-replayed"
    title = "This delivery was already received"


def registry_delivery_receive(
    *, actor: Actor, integration: Integration, delivery_id: str, event: str, payload: Any
) -> RegistryDelivery:
    """Store a verified delivery (a repeated id is refused) and queue its processing."""
    from governance.integrations.queueing import queue_after_commit
    from governance.integrations.tasks import registry_delivery_process_task

    delivery = RegistryDelivery(
        integration=integration, delivery_id=delivery_id[:200], event=event[:100], payload=payload
    )
    try:
        with transaction.atomic():
            delivery.save()
            audit_record(
                actor=actor,
                action="integrations.delivery.received",
                target=Target("integrations.registrydelivery", str(delivery.pk), str(delivery)),
                after={"integration": integration.slug, "event": event, "id": delivery_id},
            )
            queue_after_commit(registry_delivery_process_task, delivery.pk)
    except IntegrityError:
        raise DeliveryReplayed(f"Delivery {delivery_id} was already received.") from None
    return delivery


def registry_delivery_finish(
    *,
    delivery_pk: int,
    status: str,
    detail: str,
    model_version: Any = None,
    decision: Any = None,
) -> RegistryDelivery:
    """Record what processing did, with its audit event, in one transaction."""
    with transaction.atomic():
        delivery = (
            RegistryDelivery.objects.select_for_update()
            .select_related("integration")
            .get(pk=delivery_pk)
        )
        delivery.status = status
        delivery.detail = detail[:4000]
        delivery.model_version = model_version or delivery.model_version
        delivery.decision = decision or delivery.decision
        delivery.processed_at = timezone.now()
        delivery.save()
        audit_record(
            actor=Actor.system(f"{delivery.integration.kind}:{delivery.integration.slug}"),
            action=f"integrations.delivery.{status}",
            target=Target("integrations.registrydelivery", str(delivery.pk), str(delivery)),
            after={
                "event": delivery.event,
                "detail": delivery.detail,
                "model_version": str(delivery.model_version) if delivery.model_version else None,
                "decision_id": str(delivery.decision.decision_id) if delivery.decision else None,
            },
        )
    return delivery


__all__ = ["DeliveryStatus"]
