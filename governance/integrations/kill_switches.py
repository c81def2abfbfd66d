"""A kill switch on a system takes its mapped registry aliases off.

Kill switches live below this app (runtime/), so they cannot call up into it; Celery beat runs
``registry_aliases_reconcile`` every INTEGRATIONS_RECONCILE_SECONDS instead. For each alias
mapped to an environment where a whole-system or environment kill switch of a mapped system
is engaged, an alias still set in the registry is removed, audited, and noted on the
incident the switch was engaged for. Feature switches stop one feature, not the model: they
leave aliases alone."""

from governance.core.actor import Actor
from governance.incidents.models import IncidentStatus
from governance.incidents.services import incident_add_note
from governance.integrations.mlflow_api import MlflowApi, RegistryError
from governance.integrations.mlflow_events import alias_remove
from governance.integrations.models import AliasMapping, RegistryKind
from governance.runtime.models import KillSwitch, SwitchScope, SwitchState

_OPEN = (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)


def _engaged(system_id: int, environment: str) -> list[KillSwitch]:
    switches = KillSwitch.objects.filter(
        system_id=system_id,
        state=SwitchState.ENGAGED,
        scope__in=[SwitchScope.SYSTEM, SwitchScope.ENVIRONMENT],
    ).select_related("incident")
    return [s for s in switches if s.scope == SwitchScope.SYSTEM or s.environment == environment]


def registry_aliases_reconcile() -> dict[str, list[str]]:
    removed: list[str] = []
    errors: list[str] = []
    aliases = AliasMapping.objects.filter(
        integration__active=True, integration__kind=RegistryKind.MLFLOW
    ).select_related("integration")
    for alias in aliases:
        integration = alias.integration
        for mapping in integration.models.select_related("system"):
            switches = _engaged(mapping.system_id, alias.environment)
            if not switches:
                continue
            try:
                version = MlflowApi(integration).alias_version(mapping.registry_model, alias.alias)
                if version is None:
                    continue
                keys = ", ".join(s.key for s in switches)
                alias_remove(
                    integration=integration,
                    name=mapping.registry_model,
                    alias=alias.alias,
                    version=version,
                    reason=f"Kill switch {keys} is engaged on {mapping.system.slug}.",
                )
            except RegistryError as exc:
                errors.append(f"{integration.slug}/{mapping.registry_model}@{alias.alias}: {exc}")
                continue
            label = f"{integration.slug}/{mapping.registry_model}@{alias.alias} (v{version})"
            removed.append(label)
            for switch in switches:
                if switch.incident is not None and switch.incident.status not in _OPEN:
                    incident_add_note(
                        actor=Actor.system(f"mlflow:{integration.slug}"),
                        incident=switch.incident,
                        message=f"Registry alias {label} removed: kill switch {switch.key} "
                        "is engaged.",
                    )
    return {"removed": removed, "errors": errors}
