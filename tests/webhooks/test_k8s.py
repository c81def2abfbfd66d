"""POST /webhooks/k8s/admission with AdmissionReviews built from the Kubernetes samples."""

import copy
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.policy.models import Decision
from governance.webhooks.environments import environment_mapping_save
from tests.webhooks.conftest import sample

pytestmark = [pytest.mark.django_db, pytest.mark.needs_shared]

URL = "/webhooks/k8s/admission"
TESTDATA = sample("k8s/k8s-api-testdata.admission.k8s.io.v1.AdmissionReview.json")
DOCUMENTED = {
    name: sample(f"k8s/k8s-docs.response.v1.{name}.json")
    for name in (
        "allow-minimal",
        "allow-with-jsonpatch",
        "allow-with-warnings",
        "forbid-minimal",
        "forbid-with-status",
    )
}
RESPONSE_FIELDS = set(TESTDATA["response"])
STATUS_FIELDS = set(TESTDATA["response"]["status"])


def deployment(*, labels=None, annotations=None, template_labels=None, template_annotations=None):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "scorer",
            "namespace": "ml",
            "labels": {"app": "scorer", **(labels or {})},
            "annotations": annotations or {},
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "scorer"}},
            "template": {
                "metadata": {
                    "labels": {"app": "scorer", **(template_labels or {})},
                    "annotations": template_annotations or {},
                },
                "spec": {"containers": [{"name": "scorer", "image": "registry/scorer:1.4.0"}]},
            },
        },
    }


def review(obj, *, operation="CREATE", username="system:serviceaccount:ml:deployer"):
    """The Kubernetes testdata request (every v1 field set), made a real Deployment request."""
    body = copy.deepcopy(TESTDATA)
    body.pop("response")
    request = body["request"]
    request.update(
        uid=str(uuid.uuid4()),
        kind={"group": "apps", "version": "v1", "kind": "Deployment"},
        resource={"group": "apps", "version": "v1", "resource": "deployments"},
        requestKind={"group": "apps", "version": "v1", "kind": "Deployment"},
        requestResource={"group": "apps", "version": "v1", "resource": "deployments"},
        subResource="",
        requestSubResource="",
        name="scorer",
        namespace="ml",
        operation=operation,
        object=obj,
        oldObject=copy.deepcopy(obj) if operation == "UPDATE" else None,
        dryRun=False,
        options={"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    )
    request["userInfo"]["username"] = username
    return body


def names(system="credit-scoring", version="1.4.0", environment=None):
    out = {"governance.ai/system": system, "governance.ai/model-version": version}
    if environment:
        out["governance.ai/environment"] = environment
    return out


@pytest.fixture(autouse=True)
def ml_is_production(db):
    """The tests' namespace "ml" deploys to production, as an admin would map it."""
    environment_mapping_save(
        actor=Actor.system("tests"),
        source="namespace",
        name="ML",
        environment="production",
        reason="the ML team's production namespace",
    )


@pytest.fixture
def client(make_token):
    _, secret = make_token([Perm.POLICY_CHECK])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def admit(client, body):
    response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    out = response.json()
    assert set(out) == {"apiVersion", "kind", "response"}
    assert (out["apiVersion"], out["kind"]) == ("admission.k8s.io/v1", "AdmissionReview")
    assert out["response"]["uid"] == body["request"]["uid"]
    assert set(out["response"]) <= RESPONSE_FIELDS
    assert set(out["response"].get("status", {})) <= STATUS_FIELDS
    return out["response"]


def shape(response):
    """The keys of a response, as the documented examples have them."""
    return {k for k in response if k not in ("auditAnnotations",)}


def test_url_name():
    assert reverse("webhooks:k8s-admission") == URL


def test_allowed_deployment_labelled_on_the_object(client, governed):
    response = admit(client, review(deployment(labels=names(), template_labels=names())))
    assert response["allowed"] is True
    assert shape(response) == set(DOCUMENTED["allow-minimal"]["response"])
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.endpoint, decision.system_slug, decision.environment) == (
        "k8s",
        "credit-scoring",
        "production",  # namespace "ml", mapped whatever its letter case
    )
    assert decision.input["request"]["requester"] == "system:serviceaccount:ml:deployer"
    assert decision.input["request"]["change"] == {
        "kind": "Deployment",
        "namespace": "ml",
        "name": "scorer",
        "operation": "CREATE",
        "uid": response["uid"],
    }
    assert decision.caller.startswith("token:machine-")
    assert decision.dry_run is False


@pytest.mark.parametrize("where", ["template_labels", "annotations", "template_annotations"])
def test_named_only_where_the_object_selector_cannot_see_is_a_clear_refusal(
    client, governed, where
):
    response = admit(client, review(deployment(**{where: names()})))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    message = response["status"]["message"]
    assert "put the label governance.ai/system in this Deployment's own metadata.labels" in message
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert decision.allow is False and decision.violations[0]["code"] == "governance.label_required"


def test_a_controllers_pod_named_by_its_template_annotations_is_decided(client, governed):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "scorer-5d8f7c-",
            "namespace": "ml",
            "labels": {"app": "scorer"},
            "annotations": names(),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "scorer-5d8f7c",
                    "uid": str(uuid.uuid4()),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "scorer", "image": "registry/scorer:1.4.0"}]},
    }
    body = review(pod)
    body["request"].update(
        kind={"group": "", "version": "v1", "kind": "Pod"},
        resource={"group": "", "version": "v1", "resource": "pods"},
    )
    response = admit(client, body)
    assert response["allowed"] is True
    assert Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"]).allow


def test_denied_deployment_names_the_decision_and_the_violation(client, governed):
    response = admit(client, review(deployment(labels=names("fraud-detector"))))
    assert response["allowed"] is False
    assert set(response) - {"auditAnnotations"} == set(DOCUMENTED["forbid-with-status"]["response"])
    decision_id = response["auditAnnotations"]["decision-id"]
    assert response["status"]["code"] == 403
    assert response["status"]["reason"] == "Forbidden"
    assert response["status"]["message"].startswith(f"{decision_id}: ")
    assert "needs 1 approval" in response["status"]["message"]
    assert Decision.objects.get(decision_id=decision_id).allow is False


def test_warnings_are_returned_and_short(client, governed):
    response = admit(
        client, review(deployment(labels=names("triage-assistant", environment="Staging")))
    )
    assert response["allowed"] is True
    assert shape(response) == set(DOCUMENTED["allow-with-warnings"]["response"])
    assert response["warnings"]
    assert all(0 < len(w) <= 256 for w in response["warnings"])
    assert any("subcategories" in w for w in response["warnings"])


def test_annotations_win_over_labels_and_the_object_over_its_template(client, governed):
    obj = deployment(
        labels=names("fraud-detector"),
        annotations=names("credit-scoring"),
        template_labels=names("fraud-detector"),
    )
    response = admit(client, review(obj))
    assert response["allowed"] is True  # credit-scoring, from the object's annotations
    obj = deployment(
        labels={"governance.ai/system": "fraud-detector"},
        template_annotations=names("credit-scoring", environment="development"),
        template_labels=names("fraud-detector"),
    )
    response = admit(client, review(obj))
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.system_slug, decision.environment) == ("fraud-detector", "development")
    assert decision.model_version == "1.4.0"


def test_unlabelled_workload_is_allowed_with_a_warning_and_no_decision(client, governed):
    response = admit(client, review(deployment()))
    assert response["allowed"] is True
    assert "names no AI system" in response["warnings"][0]
    assert not Decision.objects.exists()


def test_unlabelled_workload_in_a_governed_namespace_is_refused_and_logged(client, governed):
    environment_mapping_save(
        actor=Actor.system("tests"),
        source="namespace",
        name="ml",
        environment="production",
        governed=True,
        reason="every workload in ml must name its system",
    )
    response = admit(client, review(deployment()))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "namespace 'ml' is governed" in response["status"]["message"]
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert decision.violations[0]["code"] == "governance.unnamed"


def test_the_governed_namespace_webhook_refuses_unlabelled_workloads(client, governed):
    body = review(deployment())
    response = client.post(URL + "/governed", body, format="json")
    assert response.status_code == 200
    out = response.json()["response"]
    assert out["allowed"] is False and out["status"]["code"] == 403
    assert reverse("webhooks:k8s-admission-governed") == URL + "/governed"


def test_unknown_system_version_or_environment_is_a_403_that_says_so(client, governed):
    cases = (
        (names("nope"), "No AI system 'nope' is registered"),
        (names(version="9.9"), "has no model version '9.9'"),
        (names(environment="moon"), "unknown environment 'moon'"),
    )
    for labels, text in cases:
        response = admit(client, review(deployment(labels=labels)))
        assert response["allowed"] is False
        assert response["status"]["code"] == 403
        assert response["status"]["reason"] == "Forbidden"
        assert text in response["status"]["message"]
        decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
        assert decision.allow is False and text in decision.violations[0]["message"]
    assert Decision.objects.count() == 3


def test_unmapped_namespace_is_a_403_naming_the_mapping_page(client, governed):
    body = review(deployment(labels=names()))
    body["request"]["namespace"] = "team-x"
    response = admit(client, body)
    assert response["allowed"] is False and response["status"]["code"] == 403
    message = response["status"]["message"]
    assert "Kubernetes namespace 'team-x' is not mapped" in message
    assert "/settings/environments/" in message
    assert Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])


def test_delete_is_allowed_without_a_decision(client, governed):
    body = review(None, operation="DELETE")
    body["request"]["oldObject"] = deployment(labels=names("fraud-detector"))
    response = admit(client, body)
    assert response == {"uid": body["request"]["uid"], "allowed": True}
    assert shape(response) == set(DOCUMENTED["allow-minimal"]["response"])
    assert not Decision.objects.exists()


def test_no_active_policy_fails_closed(client, governed):
    from governance.policy.models import PolicyVersion

    PolicyVersion.objects.update(status="retired")
    response = admit(client, review(deployment(labels=names())))
    assert response["status"]["code"] == 403
    assert response["allowed"] is False
    assert "No policy version is active" in response["status"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "AdmissionReview", "apiVersion": "v1beta1", "request": {"uid": "x"}},
        {"kind": "Pod", "apiVersion": "admission.k8s.io/v1", "request": {"uid": "x"}},
        {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"},
        {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {"uid": ""}},
        ["not", "an", "object"],
    ],
)
def test_malformed_review_is_400_problem(client, body):
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]


def test_invalid_json_is_400_problem(client):
    response = client.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_needs_a_token_with_policy_check(make_token, governed):
    body = review(deployment(labels=names()))
    assert APIClient().post(URL, body, format="json").status_code == 401
    _, secret = make_token([Perm.INVENTORY_VIEW])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = other.post(URL, body, format="json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_admission_bodies_have_the_api_servers_limit_and_others_keep_theirs(
    client, governed, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.K8S_ADMISSION_MAX_BODY_BYTES = 20_000
    # An UPDATE carries object and oldObject: well over the general limit, under the API
    # server's, it is decided.
    body = review(
        deployment(labels=names(), annotations={"padding": "x" * 4000}), operation="UPDATE"
    )
    body["request"]["oldObject"]["spec"]["template"]["spec"]["containers"][0]["image"] = "old:1"
    response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["response"]["allowed"] is True
    body = review(deployment(labels={**names(), "padding": "x" * 30_000}))
    response = client.post(URL, body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert "20000 bytes" in response.json()["detail"]
    check = client.post(
        "/api/v1/policy/check", {"system": "x" * 2000}, format="json"
    )  # the general limit still holds elsewhere
    assert check.status_code == 413
