"""POST /webhooks/k8s/admission with AdmissionReviews built from the Kubernetes samples."""

import copy
import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.policy.models import Decision
from tests.webhooks.conftest import sample

pytestmark = pytest.mark.django_db

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


def test_allowed_deployment_labelled_on_its_pod_template(client, governed):
    response = admit(client, review(deployment(template_labels=names())))
    assert response["allowed"] is True
    assert shape(response) == set(DOCUMENTED["allow-minimal"]["response"])
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.endpoint, decision.system_slug, decision.environment) == (
        "k8s",
        "credit-scoring",
        "production",
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


def test_denied_deployment_names_the_decision_and_the_violation(client, governed):
    response = admit(client, review(deployment(labels=names("fraud-detector")), operation="UPDATE"))
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
        client, review(deployment(template_labels=names("triage-assistant", environment="staging")))
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
        template_annotations=names("credit-scoring", environment="development"),
        template_labels=names("fraud-detector"),
    )
    response = admit(client, review(obj))
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.system_slug, decision.environment) == ("credit-scoring", "development")


def test_unlabelled_object_is_refused_fail_closed(client, governed):
    response = admit(client, review(deployment()))
    assert response["allowed"] is False
    assert response["status"]["code"] == 403
    assert "governance.ai/system" in response["status"]["message"]
    assert not Decision.objects.exists()


def test_unknown_system_or_version_answers_an_admission_review_with_404(client, governed):
    for labels in (names("nope"), names(version="9.9"), names(environment="moon")):
        response = admit(client, review(deployment(labels=labels)))
        assert response["allowed"] is False
        assert response["status"]["code"] == 404
        assert response["status"]["message"]
    assert not Decision.objects.exists()


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


def test_oversize_body_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = review(deployment(labels={**names(), "padding": "x" * 2000}))
    response = client.post(URL, body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
