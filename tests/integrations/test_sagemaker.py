"""SageMaker Model Registry against a real moto server: a package group and packages are made
with boto3, the EventBridge event is built from what DescribeModelPackage returns (the detail
AWS documents for "SageMaker Model Package State Change"), delivered to the product, and the
release decision in the product is read back from SageMaker with boto3."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.integrations.models import (
    DeliveryStatus,
    RegistryDelivery,
    RegistryVersionLink,
    RegistryWriteBack,
    WriteBackState,
)
from governance.integrations.sagemaker_writeback import (
    registry_approvals_sync,
    registry_write_back_attempt,
    release_changed_write_back,
)
from governance.integrations.services import (
    alias_mapping_add,
    integration_create,
    model_mapping_add,
)
from governance.inventory.models import ModelVersion
from governance.inventory.services import ai_system_create
from governance.policy.inputs import deployment_input
from governance.policy.services import policy_directory_load
from governance.releases.approvals import release_approval_record
from governance.releases.services import release_request_create, release_request_submit
from governance.releases.signals import release_changed
from tests.integrations.sagemaker_server import REGION

WRITE_BACK_UID = "sagemaker-write-back"  # as integrations/apps.py connects it

pytestmark = pytest.mark.django_db(transaction=True)
API_KEY = "eventbridge-connection-api-key-0123"
GROUP = "churn-classifier"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
QUIET_DAY = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch, settings, loopback_allowed):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDGOVERNANCETESTS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "governance-secret-for-tests")
    settings.AWS_REGION = REGION


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user(Role.REQUESTER, username="owner"),
        "approver": make_user(Role.APPROVER, username="approver"),
    }


@pytest.fixture
def outside_freeze(monkeypatch):
    """The shipped policy has a year-end production freeze; these tests are not about it, so
    the policy sees a day outside it."""
    from governance.policy import services

    monkeypatch.setattr(
        services, "deployment_input", lambda request: deployment_input(request, now=QUIET_DAY)
    )


@pytest.fixture
def policy(outside_freeze):
    policy_directory_load(actor=Actor.system("tests"))


@pytest.fixture
def integration(moto_server, aws, people):
    actor = Actor.system("tests")
    system = ai_system_create(
        actor=actor, slug="churn", name="Churn", owner=people["owner"], risk_tier="medium"
    )
    made = integration_create(
        actor=actor,
        slug="sm",
        kind="sagemaker",
        name="SageMaker",
        endpoint=moto_server.url,
        secret=API_KEY,
    )
    model_mapping_add(actor=actor, integration=made, registry_model=GROUP, system=system)
    alias_mapping_add(actor=actor, integration=made, alias="Approved", environment="production")
    return made


def create_package(sagemaker, *, group=GROUP, complete=True, status="PendingManualApproval"):
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    if group not in {g["ModelPackageGroupName"] for g in groups}:
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    properties = {"git_commit": COMMIT, "artifact_format": "skops"}
    if complete:
        properties.update(
            {
                "training_data": "https://lineage.example.com/datasets/churn-2026-11/",
                "param.max_depth": "6",
                "metric.auc": "0.91",
                "metric.drift": "NaN",
            }
        )
    return sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [
                {
                    "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sklearn:1.2-1",
                    "ImageDigest": "sha256:" + "ab" * 32,
                    "ModelDataUrl": "s3://ml-models/churn/model.tar.gz",
                    "Framework": "SKLEARN",
                    "FrameworkVersion": "1.2-1",
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": "s3://ml-models/churn/evaluation.json",
                }
            }
        },
        CustomerMetadataProperties=properties,
    )["ModelPackageArn"]


def state_change_event(sagemaker, arn, event_id=None):
    """The EventBridge envelope around DescribeModelPackage's answer, as EventBridge sends it."""
    detail = sagemaker.describe_model_package(ModelPackageName=arn)
    detail.pop("ResponseMetadata", None)
    detail = json.loads(json.dumps(detail, default=lambda v: v.isoformat().replace("+00:00", "Z")))
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-02T12:00:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": detail,
    }


def deliver(body, capture, key=API_KEY, slug="sm", raw=None):
    headers = {"HTTP_X_API_KEY": key} if key is not None else {}
    with capture(execute=True):
        return Client().post(
            f"/webhooks/sagemaker/{slug}",
            raw if raw is not None else json.dumps(body),
            content_type="application/json",
            **headers,
        )


def approval_status(sagemaker, arn):
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    return described["ModelApprovalStatus"], described.get("ApprovalDescription") or ""


def release(people, version, decision, reason):
    request = release_request_create(
        actor=Actor.for_user(people["owner"]),
        system=version.system,
        model_version=version,
        environment="production",
        title="Churn v1 to production",
        change_summary="New SageMaker package",
        justification="Better AUC on the November data",
        evaluation_links=[],
    )
    request = release_request_submit(actor=Actor.for_user(people["owner"]), request=request)
    release_approval_record(
        actor=Actor.for_user(people["approver"]),
        request=request,
        decision=decision,
        reason=reason,
        content_hash=request.content_hash,
    )
    return request


def test_new_package_is_registered_approved_in_the_product_and_set_approved_in_sagemaker(
    policy, integration, moto_server, people, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker)
    response = deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PROCESSED, delivery.detail
    assert "waiting for a release approval to production" in delivery.detail
    version = ModelVersion.objects.get(system__slug="churn", version="1")
    assert version.framework == "sklearn" and version.framework_version == "1.2-1"
    assert version.artifact_uri == "s3://ml-models/churn/model.tar.gz"
    assert version.artifact_format == "skops" and version.code_commit_sha == COMMIT
    assert version.parameters == {"max_depth": "6"}
    assert version.evaluation == [{"metric": "auc", "value": 0.91}]
    assert [d.source for d in version.datasets.all()] == [
        "https://lineage.example.com/datasets/churn-2026-11/"
    ]
    container = version.artifact["containers"][0]
    assert container["image_digest"] == "sha256:" + "ab" * 32
    assert version.artifact["model_metrics"]["ModelQuality"]["Statistics"]["S3Uri"].endswith(
        "evaluation.json"
    )
    assert version.missing_metadata == []
    assert delivery.decision.endpoint == "sagemaker"
    assert {v["code"] for v in delivery.decision.denials} == {"approvals.insufficient"}
    assert approval_status(sagemaker, arn)[0] == "PendingManualApproval"

    # The approval's commit writes it back (the release_changed signal); no beat needed.
    with django_capture_on_commit_callbacks(execute=True):
        request = release(people, version, "approve", "Reviewed the evaluation")
    status, description = approval_status(sagemaker, arn)
    assert status == "Approved"
    assert description.startswith("[governance]") and str(request.public_id) in description
    assert "approved by approver" in description
    write_back = RegistryWriteBack.objects.get()
    assert write_back.state == WriteBackState.DONE and write_back.release == request
    assert AuditEvent.objects.filter(action="integrations.sagemaker.status_set").count() == 1

    # SageMaker's event about the product's own change is recognised and ignored; syncing
    # again writes nothing more.
    response = deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    assert response.status_code == 202
    own = RegistryDelivery.objects.order_by("-id").first()
    assert own.status == DeliveryStatus.IGNORED and "own change" in own.detail
    assert registry_approvals_sync()["queued"] == []
    assert not AuditEvent.objects.filter(
        action="integrations.sagemaker.status_set_outside"
    ).exists()


def test_rejection_in_the_product_sets_rejected_with_the_reason(
    policy, integration, moto_server, people, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker, group="churn-rejected")
    model_mapping_add(
        actor=Actor.system("tests"),
        integration=integration,
        registry_model="churn-rejected",
        system=integration.models.first().system,
    )
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    version = RegistryVersionLink.objects.get(registry_ref=arn).model_version
    # A decision whose write-back was never queued (here: nobody listening) is found by the
    # beat's sync.
    release_changed.disconnect(dispatch_uid=WRITE_BACK_UID)
    try:
        release(people, version, "reject", "The AUC is measured on last year's data")
    finally:
        release_changed.connect(release_changed_write_back, dispatch_uid=WRITE_BACK_UID)
    assert approval_status(sagemaker, arn)[0] == "PendingManualApproval"
    with django_capture_on_commit_callbacks(execute=True):
        assert registry_approvals_sync()["queued"] == [f"{arn} Rejected"]
    status, description = approval_status(sagemaker, arn)
    assert status == "Rejected"
    assert "rejected by approver: The AUC is measured on last year's data" in description
    assert registry_approvals_sync()["queued"] == []


def test_approved_release_edited_and_then_rejected_sets_rejected_after_approved(
    policy, integration, moto_server, people, eager_tasks, django_capture_on_commit_callbacks
):
    from governance.releases.services import release_request_update

    sagemaker = moto_server.client()
    arn = create_package(sagemaker)
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    version = RegistryVersionLink.objects.get(registry_ref=arn).model_version
    request = release(people, version, "approve", "Reviewed")
    with django_capture_on_commit_callbacks(execute=True):
        registry_approvals_sync()
    assert approval_status(sagemaker, arn)[0] == "Approved"
    request = release_request_update(
        actor=Actor.for_user(people["owner"]),
        request=request,
        reason="New justification",
        justification="Retrained on the December data",
    )
    with django_capture_on_commit_callbacks(execute=True):
        release_approval_record(
            actor=Actor.for_user(people["approver"]),
            request=request,
            decision="reject",
            reason="December data is not labelled yet",
            content_hash=request.content_hash,
        )
    status, description = approval_status(sagemaker, arn)
    assert status == "Rejected" and "December data is not labelled yet" in description
    assert registry_approvals_sync()["queued"] == []


def test_policy_denial_at_registration_sets_rejected(
    policy, integration, moto_server, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker, group="churn-incomplete", complete=False)
    model_mapping_add(
        actor=Actor.system("tests"),
        integration=integration,
        registry_model="churn-incomplete",
        system=integration.models.first().system,
    )
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    delivery = RegistryDelivery.objects.get()
    assert "set Rejected" in delivery.detail, delivery.detail
    status, description = approval_status(sagemaker, arn)
    assert status == "Rejected"
    assert description.startswith("[governance] Policy denied production")
    assert "metadata" in description
    assert str(delivery.decision.decision_id) in description


@pytest.mark.parametrize("text", ["LGTM", "[governance] Release approved by approver"])
def test_status_set_in_sagemaker_outside_the_product_is_recorded(
    policy, integration, moto_server, text, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker)
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    # Even with the product's marker typed in by hand: it is not what the product set.
    sagemaker.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription=text
    )
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    last = RegistryDelivery.objects.order_by("-id").first()
    assert last.status == DeliveryStatus.PROCESSED
    assert last.detail.startswith("Approved in SageMaker, not through the product")
    event = AuditEvent.objects.get(action="integrations.sagemaker.status_set_outside")
    assert event.after["approval_description"] == text
    assert not RegistryWriteBack.objects.exists()


@pytest.mark.parametrize(
    ("key", "slug"),
    [(None, "sm"), ("", "sm"), ("wrong-key-wrong-key-wrong", "sm"), (API_KEY, "nope")],
)
def test_bad_or_missing_api_key_is_401_and_stores_nothing(
    integration, moto_server, key, slug, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    event = state_change_event(sagemaker, create_package(sagemaker))
    response = deliver(event, django_capture_on_commit_callbacks, key=key, slug=slug)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not RegistryDelivery.objects.exists()
    assert not ModelVersion.objects.exists()


def test_paused_integration_is_401(integration, moto_server, django_capture_on_commit_callbacks):
    from governance.integrations.services import integration_set_active

    integration_set_active(
        actor=Actor.system("tests"), integration=integration, active=False, reason="maintenance"
    )
    sagemaker = moto_server.client()
    event = state_change_event(sagemaker, create_package(sagemaker))
    assert deliver(event, django_capture_on_commit_callbacks).status_code == 401
    assert not RegistryDelivery.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "raw"),
    [
        (None, b"{not json"),
        (None, b"[1, 2]"),
        (None, b'{"id": NaN}'),
        (None, b"[" * 5000),
        (lambda e: e["detail"].update(ApprovalDescription="a\x00b"), None),
        (lambda e: e.pop("id"), None),
        (lambda e: e.update(id=""), None),
        (lambda e: e.update(detail="text"), None),
        (lambda e: e.pop("detail-type"), None),
        (lambda e: e["detail"].pop("ModelPackageArn"), None),
        (lambda e: e["detail"].update(ModelPackageVersion="one"), None),
        (lambda e: e["detail"].update(ModelApprovalStatus=1), None),
        (lambda e: e["detail"].update(InferenceSpecification={"Containers": "x"}), None),
        (lambda e: e["detail"].update(CustomerMetadataProperties=[1]), None),
    ],
)
def test_malformed_event_is_400_and_stores_nothing(
    integration, moto_server, mutate, raw, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    event = state_change_event(sagemaker, create_package(sagemaker))
    if mutate:
        mutate(event)
    response = deliver(event, django_capture_on_commit_callbacks, raw=raw)
    assert response.status_code == 400, response.content
    assert not RegistryDelivery.objects.exists()


def test_duplicate_event_id_is_ignored(
    policy, integration, moto_server, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    event = state_change_event(sagemaker, create_package(sagemaker))
    assert deliver(event, django_capture_on_commit_callbacks).status_code == 202
    again = deliver(event, django_capture_on_commit_callbacks)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert RegistryDelivery.objects.count() == 1
    assert ModelVersion.objects.count() == 1


def test_unmapped_group_is_ignored(
    integration, moto_server, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    event = state_change_event(sagemaker, create_package(sagemaker, group="someone-elses"))
    assert deliver(event, django_capture_on_commit_callbacks).status_code == 202
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED
    assert "no AI system is mapped to model package group 'someone-elses'" in delivery.detail
    assert not ModelVersion.objects.exists()


def test_status_change_in_an_unmapped_group_is_ignored(
    integration, moto_server, eager_tasks, django_capture_on_commit_callbacks
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker, group="someone-elses", status="Approved")
    event = state_change_event(sagemaker, arn)
    assert deliver(event, django_capture_on_commit_callbacks).status_code == 202
    delivery = RegistryDelivery.objects.get()
    assert delivery.status == DeliveryStatus.IGNORED and "unmapped group" in delivery.detail
    assert not AuditEvent.objects.filter(action__startswith="integrations.sagemaker.").exists()


def test_other_event_types_are_stored_and_ignored(
    integration, eager_tasks, django_capture_on_commit_callbacks
):
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SageMaker Training Job State Change",
        "source": "aws.sagemaker",
        "detail": {"TrainingJobStatus": "Completed"},
    }
    assert deliver(event, django_capture_on_commit_callbacks).status_code == 202
    assert RegistryDelivery.objects.get().status == DeliveryStatus.IGNORED


def test_write_back_that_fails_is_retried_then_given_up(
    policy,
    integration,
    moto_server,
    people,
    eager_tasks,
    settings,
    django_capture_on_commit_callbacks,
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker)
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    version = RegistryVersionLink.objects.get(registry_ref=arn).model_version
    settings.SAGEMAKER_WRITEBACK_MAX_ATTEMPTS = 2
    # A package SageMaker does not know: the call fails, the row stays pending for a retry.
    RegistryVersionLink.objects.filter(registry_ref=arn).update(registry_ref=arn + "-gone")
    with django_capture_on_commit_callbacks(execute=True):
        release(people, version, "approve", "Reviewed")
    write_back = RegistryWriteBack.objects.get()
    assert write_back.state == WriteBackState.PENDING and write_back.attempts == 1
    assert "UpdateModelPackage answered 400" in write_back.last_error
    write_back = registry_write_back_attempt(write_back_pk=write_back.pk)
    assert write_back.state == WriteBackState.FAILED and write_back.attempts == 2
    assert AuditEvent.objects.filter(action="integrations.sagemaker.write_back_failed").exists()
    assert approval_status(sagemaker, arn)[0] == "PendingManualApproval"


def test_no_credentials_fails_the_write_back_attempt_without_a_call(
    policy,
    integration,
    moto_server,
    people,
    eager_tasks,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    sagemaker = moto_server.client()
    arn = create_package(sagemaker)
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with django_capture_on_commit_callbacks(execute=True):
        release(people, RegistryVersionLink.objects.get().model_version, "approve", "Reviewed")
    write_back = RegistryWriteBack.objects.get()
    assert "AWS credentials are not set" in write_back.last_error
    assert write_back.state == WriteBackState.PENDING
    assert approval_status(sagemaker, arn)[0] == "PendingManualApproval"


def test_integration_page_shows_the_api_destination_and_write_backs_never_the_key(
    policy, integration, moto_server, client, make_user, eager_tasks,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    sagemaker = moto_server.client()
    arn = create_package(sagemaker, complete=False)
    deliver(state_change_event(sagemaker, arn), django_capture_on_commit_callbacks)
    client.force_login(make_user(Role.ADMIN))
    page = client.get("/settings/integrations/sm/")
    assert page.status_code == 200
    assert b"/webhooks/sagemaker/sm" in page.content and b"X-Api-Key" in page.content
    assert API_KEY.encode() not in page.content
    assert b"Approval statuses set in the registry" in page.content
    assert b"[governance] Policy denied production" in page.content
    for role in (Role.REQUESTER, Role.APPROVER, Role.AUDITOR, Role.VIEWER):
        client.force_login(make_user(role))
        assert client.get("/settings/integrations/sm/").status_code in (302, 403)


def test_oversize_body_is_413_and_stores_nothing(
    integration, settings, django_capture_on_commit_callbacks
):
    body = {"id": "x", "detail-type": "t", "source": "s", "detail": {"pad": "x" * 4096}}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = deliver(body, django_capture_on_commit_callbacks)
    assert response.status_code == 413
    assert not RegistryDelivery.objects.exists()
