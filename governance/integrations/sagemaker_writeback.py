"""Approval statuses the product sets on SageMaker model packages, reliably.

A write-back is a row first (in the transaction of what decided it, with its send in the
outbox), then one ``UpdateModelPackage`` call per attempt; a failure is retried with doubling
backoff by the beat task until SAGEMAKER_WRITEBACK_MAX_ATTEMPTS, then marked failed (shown on
the integration's page and audited). Every status set starts ``ApprovalDescription`` with
OWN_MARKER, and the row remembers it, so SageMaker's event about it is ignored.

Release decisions live below this app (releases/ cannot call up into it): its
``release_changed`` signal queues ``registry_approvals_sync`` (through the outbox) when a
decision on a SageMaker-registered version commits, and Celery beat runs it every
INTEGRATIONS_RECONCILE_SECONDS as well, for retries and anything missed: a release request for
a SageMaker-registered version, to the environment mapped to ``Approved``, that was approved
(or deployed) sets the package Approved; a rejected one sets it Rejected with the reason."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.outbox import outbox_enqueue
from governance.integrations.mlflow_api import RegistryError
from governance.integrations.models import (
    AliasMapping,
    RegistryKind,
    RegistryVersionLink,
    RegistryWriteBack,
    WriteBackState,
)
from governance.integrations.sagemaker_api import SageMakerApi
from governance.releases.models import ApprovalDecision, ReleaseRequest, ReleaseState

OWN_MARKER = "[governance]"
TASK = "governance.integrations.tasks.registry_write_back_task"
SYNC_BATCH = 200


def _target(write_back: RegistryWriteBack) -> Target:
    integration = write_back.integration
    return Target("integrations.integration", integration.slug, integration.name)


def _actor(write_back: RegistryWriteBack) -> Actor:
    return Actor.system(f"sagemaker:{write_back.integration.slug}")


def registry_write_back_request(
    *,
    actor: Actor,
    link: RegistryVersionLink,
    status: str,
    description: str,
    cause: str,
    release: ReleaseRequest | None = None,
) -> RegistryWriteBack | None:
    """Queue setting ``status`` on the linked package; None if this cause was already queued.
    The beat task is the safety net: it attempts a write-back the outbox has not finished by
    the first backoff."""
    write_back = RegistryWriteBack(
        integration=link.integration,
        link=link,
        registry_ref=link.registry_ref,
        status=status,
        description=description[:1024],
        cause=cause[:200],
        release=release,
        next_attempt_at=timezone.now() + _backoff(1),
    )
    try:
        with transaction.atomic():
            write_back.save()
            audit_record(
                actor=actor,
                action="integrations.sagemaker.write_back_queued",
                target=_target(write_back),
                after={
                    "model_package_arn": write_back.registry_ref,
                    "status": status,
                    "cause": write_back.cause,
                    "model_version": str(link.model_version),
                },
                reason=write_back.description,
            )
            outbox_enqueue(task=TASK, args=[write_back.pk])
    except IntegrityError:
        return None
    return write_back


def _backoff(attempts: int) -> timedelta:
    seconds = settings.SAGEMAKER_WRITEBACK_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, 3600))


def registry_write_back_attempt(*, write_back_pk: int) -> RegistryWriteBack:
    """One UpdateModelPackage call for a pending write-back; its outcome recorded and audited."""
    with transaction.atomic():
        write_back = (
            RegistryWriteBack.objects.select_for_update()
            .select_related("integration", "link__model_version")
            .get(pk=write_back_pk)
        )
        if write_back.state != WriteBackState.PENDING:
            return write_back
        write_back.attempts += 1
        # Claimed until the backoff: the beat task does not start a second attempt meanwhile.
        write_back.next_attempt_at = timezone.now() + _backoff(write_back.attempts)
        write_back.save(update_fields=["attempts", "next_attempt_at"])
    error = ""
    try:
        SageMakerApi(write_back.integration).update_model_package(
            arn=write_back.registry_ref,
            status=write_back.status,
            description=write_back.description,
        )
    except RegistryError as exc:
        error = str(exc)[:500]
    with transaction.atomic():
        gave_up = bool(error) and write_back.attempts >= settings.SAGEMAKER_WRITEBACK_MAX_ATTEMPTS
        write_back.last_error = error
        if not error or gave_up:
            write_back.state = WriteBackState.FAILED if gave_up else WriteBackState.DONE
            write_back.done_at = timezone.now()
            write_back.next_attempt_at = None
        write_back.save(update_fields=["last_error", "state", "done_at", "next_attempt_at"])
        if not error or gave_up:
            audit_record(
                actor=_actor(write_back),
                action="integrations.sagemaker.status_set"
                if not error
                else "integrations.sagemaker.write_back_failed",
                target=_target(write_back),
                after={
                    "model_package_arn": write_back.registry_ref,
                    "status": write_back.status,
                    "cause": write_back.cause,
                    "attempts": write_back.attempts,
                    "error": error or None,
                },
                reason=write_back.description,
            )
    return write_back


def _release_status(request: ReleaseRequest) -> tuple[str, str]:
    approvals = [a for a in request.approvals.all() if a.voided_at is None]
    if request.state == ReleaseState.REJECTED:
        rejection = [a for a in approvals if a.decision == ApprovalDecision.REJECT]
        last = rejection[-1] if rejection else None
        by = f" by {last.approver.username}: {last.reason}" if last else ""
        return "Rejected", f"{OWN_MARKER} Release {request.public_id} rejected{by}"
    names = ", ".join(
        a.approver.username for a in approvals if a.decision == ApprovalDecision.APPROVE
    )
    return "Approved", (
        f"{OWN_MARKER} Release {request.public_id} to {request.environment} approved"
        f"{' by ' + names if names else ''}"
    )


SYNC_TASK = "governance.integrations.tasks.registry_approvals_sync_task"
WRITTEN_BACK = {"release.approved", "release.deployed", "release.rejected"}


def release_changed_write_back(*, event: str, request: ReleaseRequest, **_: Any) -> None:
    """The release_changed receiver: a decision on a SageMaker-registered version is written
    back as soon as it commits, not at the next beat."""
    if event in WRITTEN_BACK and (
        RegistryVersionLink.objects.filter(
            model_version_id=request.model_version_id, integration__kind=RegistryKind.SAGEMAKER
        ).exists()
    ):
        outbox_enqueue(task=SYNC_TASK)


def registry_approvals_sync(*, now: datetime | None = None) -> dict[str, Any]:
    """Queue write-backs for release decisions not written back yet; attempt those due."""
    now = now or timezone.now()
    queued: list[str] = []
    mapped = Q(pk__in=[])
    for integration_id, environment in AliasMapping.objects.filter(
        alias="Approved", integration__kind=RegistryKind.SAGEMAKER, integration__active=True
    ).values_list("integration_id", "environment"):
        mapped |= Q(
            model_version__registry_link__integration_id=integration_id, environment=environment
        )

    def written(status: str) -> Exists:
        return Exists(RegistryWriteBack.objects.filter(release=OuterRef("pk"), status=status))

    # A request edited after its approval goes back to review and may still be rejected: each
    # status a request reaches is written once.
    requests = (
        ReleaseRequest.objects.filter(mapped)
        .filter(
            (Q(state__in=[ReleaseState.APPROVED, ReleaseState.DEPLOYED]) & ~written("Approved"))
            | (Q(state=ReleaseState.REJECTED) & ~written("Rejected"))
        )
        .select_related("model_version__registry_link__integration")
        .prefetch_related("approvals__approver")
        .order_by("decided_at", "pk")
    )
    for request in requests[:SYNC_BATCH]:
        link = request.model_version.registry_link
        status, description = _release_status(request)
        made = registry_write_back_request(
            actor=Actor.system(f"sagemaker:{link.integration.slug}"),
            link=link,
            status=status,
            description=description,
            cause=f"release:{request.public_id}:{status}",
            release=request,
        )
        if made is not None:
            queued.append(f"{link.registry_ref} {status}")
    due = list(
        RegistryWriteBack.objects.filter(
            state=WriteBackState.PENDING, next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:SYNC_BATCH]
    )
    retried = [registry_write_back_attempt(write_back_pk=pk).state for pk in due]
    return {"queued": queued, "retried": len(retried)}
