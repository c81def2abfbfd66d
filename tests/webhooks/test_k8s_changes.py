"""Admission on real API-server traffic: the envelope of the kube-audit-rest captures, made
into the UPDATE, DELETE, dry-run and InferenceService requests an API server sends for them
(``oldObject`` as before, ``object`` as after)."""

import copy
import uuid

import pytest
import yaml
from rest_framework.test import APIClient

from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.inventory.models import ModelVersion
from governance.policy.inputs import deployment_input
from governance.policy.models import Decision
from governance.policy.selectors import deployment_request_resolve
from governance.webhooks.environments import environment_mapping_save
from tests.webhooks.conftest import SAMPLES, sample

pytestmark = [pytest.mark.django_db, pytest.mark.needs_shared]

URL = "/webhooks/k8s/admission"
CAPTURES = {
    line: sample(f"k8s/admissionreview.v1.kube-audit-rest.line{line}.json")
    for line in (3, 4, 10, 33)
}
KSERVE = yaml.safe_load(
    (SAMPLES / "artifacts" / "kserve-inferenceservice.canary.yaml").read_text(encoding="utf-8")
)
STORAGE_URI = KSERVE["spec"]["predictor"]["tensorflow"]["storageUri"]
ACTOR = Actor.system("tests")
GOVERNED = {"governance.ai/system": "credit-scoring", "governance.ai/model-version": "1.4.0"}
DENIED = {"governance.ai/system": "fraud-detector", "governance.ai/model-version": "1.4.0"}


@pytest.fixture(autouse=True)
def ml_is_production(db):
    environment_mapping_save(
        actor=ACTOR, source="namespace", name="ml", environment="production", reason="tests"
    )


@pytest.fixture
def client(make_token):
    _, secret = make_token([Perm.POLICY_CHECK])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def stored_deployment(labels=GOVERNED, image="registry/scorer:1.4.0"):
    """A Deployment as the API server holds it: server-set metadata and status included."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "scorer",
            "namespace": "ml",
            "uid": "2c6a2c5e-0d7d-4e8e-9a43-8d1e7b0c1f10",
            "resourceVersion": "11405",
            "generation": 3,
            "creationTimestamp": "2022-11-30T17:46:37Z",
            "labels": {"app": "scorer", **labels},
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "managedFields": [
                {"manager": "kubectl", "operation": "Update", "apiVersion": "apps/v1"}
            ],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "scorer"}},
            "template": {
                "metadata": {"labels": {"app": "scorer", **labels}},
                "spec": {"containers": [{"name": "scorer", "image": image}]},
            },
        },
        "status": {"replicas": 2, "readyReplicas": 2, "observedGeneration": 3},
    }


def sent(
    after,
    before=None,
    *,
    operation="UPDATE",
    capture=4,
    kind=("apps", "v1", "Deployment", "deployments"),
    sub="",
    dry_run=False,
):
    """The capture's envelope (uid, userInfo, options) carrying this change."""
    body = copy.deepcopy(CAPTURES[capture])
    request = body["request"]
    group, version, kind_name, resource = kind
    obj = after if after is not None else before
    request.update(
        uid=str(uuid.uuid4()),
        kind={"group": group, "version": version, "kind": kind_name},
        resource={"group": group, "version": version, "resource": resource},
        requestKind={"group": group, "version": version, "kind": kind_name},
        requestResource={"group": group, "version": version, "resource": resource},
        name=obj["metadata"]["name"],
        namespace=obj["metadata"].get("namespace", "ml"),
        operation=operation,
        object=after,
        oldObject=before,
        dryRun=dry_run,
        options={
            "kind": {"UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}.get(
                operation, "CreateOptions"
            ),
            "apiVersion": "meta.k8s.io/v1",
        },
    )
    if sub:
        request["subResource"] = request["requestSubResource"] = sub
    return body


def admit(client, body):
    response = client.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    out = response.json()["response"]
    assert out["uid"] == body["request"]["uid"]
    return out


# --- What reaches the webhook anyway ------------------------------------------------------


@pytest.mark.parametrize("line", [3, 4, 10, 33])
def test_real_non_workload_traffic_is_allowed_without_a_decision(client, governed, line):
    response = admit(client, CAPTURES[line])
    assert response == {"uid": CAPTURES[line]["request"]["uid"], "allowed": True}
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "kind",
    [
        ("", "v1", "Endpoints", "endpoints"),
        ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
        ("coordination.k8s.io", "v1", "Lease", "leases"),
        ("", "v1", "ConfigMap", "configmaps"),
        ("apps", "v1", "ReplicaSet", "replicasets"),
    ],
)
def test_other_kinds_even_labelled_are_allowed_untouched(client, governed, kind):
    obj = {
        "apiVersion": "v1",
        "kind": kind[2],
        "metadata": {"name": "x", "namespace": "ml", "labels": DENIED},
    }
    response = admit(client, sent(obj, operation="CREATE", kind=kind))
    assert response["allowed"] is True and "status" not in response
    assert not Decision.objects.exists()


# --- UPDATE is judged on what changed -----------------------------------------------------


def _status_update(obj):
    obj["status"] = {"replicas": 2, "readyReplicas": 1, "observedGeneration": 4}


def _metadata_only(obj):
    obj["metadata"]["resourceVersion"] = "11406"
    obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    obj["metadata"]["labels"]["team"] = "risk"


def _owner_reference(obj):
    obj["metadata"]["ownerReferences"] = [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "scorer", "uid": "u1"}
    ]


def _replicas(obj):
    obj["spec"]["replicas"] = 7


def _finalizer_removed(obj):
    obj["metadata"]["finalizers"] = []
    obj["metadata"]["deletionTimestamp"] = "2022-11-30T18:00:00Z"


@pytest.mark.parametrize(
    "edit", [_status_update, _metadata_only, _owner_reference, _replicas, _finalizer_removed]
)
def test_changes_that_do_not_touch_governed_fields_pass_without_the_policy(client, governed, edit):
    # fraud-detector is denied in production: if the policy ran, these would be refused.
    before = stored_deployment(labels=DENIED)
    if edit is _finalizer_removed:
        before["metadata"]["finalizers"] = ["foregroundDeletion"]
        before["metadata"]["deletionTimestamp"] = "2022-11-30T18:00:00Z"
    after = copy.deepcopy(before)
    edit(after)
    response = admit(client, sent(after, before))
    assert response["allowed"] is True and "status" not in response
    assert not Decision.objects.exists()


def test_the_status_subresource_is_not_judged(client, governed):
    before = stored_deployment(labels=DENIED)
    after = copy.deepcopy(before)
    _status_update(after)
    assert admit(client, sent(after, before, sub="status"))["allowed"] is True
    assert not Decision.objects.exists()


def test_an_image_change_is_a_deployment_and_is_decided(client, governed):
    before = stored_deployment(labels=DENIED, image="registry/fraud:1.3.0")
    after = stored_deployment(labels=DENIED, image="registry/fraud:1.4.0")
    response = admit(client, sent(after, before))
    assert response["allowed"] is False and response["status"]["code"] == 403
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert decision.input["request"]["change"]["operation"] == "UPDATE"


def test_a_new_model_version_label_is_decided(client, governed):
    before = stored_deployment(labels={**GOVERNED, "governance.ai/model-version": "1.3.0"})
    after = stored_deployment(labels=GOVERNED)
    response = admit(client, sent(after, before))
    assert response["allowed"] is True
    assert Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"]).allow


def test_removing_the_governance_labels_from_a_governed_object_is_refused(client, governed):
    before = stored_deployment(labels=GOVERNED)
    after = stored_deployment(labels={})
    response = admit(client, sent(after, before))
    assert response["allowed"] is False and response["status"]["code"] == 403
    assert "removing its governance.ai/system" in response["status"]["message"]
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.system_slug, decision.violations[0]["code"]) == (
        "credit-scoring",
        "governance.labels_removed",
    )


# --- Stopping is always allowed -----------------------------------------------------------


@pytest.fixture
def kill_switch_engaged(governed):
    from governance.runtime.services import kill_switch_create, kill_switch_engage

    switch = kill_switch_create(
        actor=ACTOR, key="scorer-off", system=governed["credit-scoring"], scope="system"
    )
    kill_switch_engage(actor=ACTOR, switch=switch, reason="bad answers in production")
    return switch


def test_an_engaged_kill_switch_refuses_a_rollout(client, kill_switch_engaged):
    before = stored_deployment(image="registry/scorer:1.3.0")
    response = admit(client, sent(stored_deployment(), before))
    assert response["allowed"] is False
    assert "kill" in response["status"]["message"].lower()


def test_scaling_to_zero_is_allowed_under_an_engaged_kill_switch(client, kill_switch_engaged):
    before = stored_deployment()
    after = copy.deepcopy(before)
    after["spec"]["replicas"] = 0
    assert admit(client, sent(after, before))["allowed"] is True
    suspended = stored_deployment()
    suspended["spec"]["suspend"] = True
    assert admit(client, sent(suspended, stored_deployment()))["allowed"] is True
    assert not Decision.objects.exists()


def test_scaling_to_zero_with_a_new_image_is_still_judged(client, governed):
    before = stored_deployment(labels=DENIED, image="registry/fraud:1.3.0")
    after = stored_deployment(labels=DENIED, image="registry/fraud:9.9.9")
    after["spec"]["replicas"] = 0
    assert admit(client, sent(after, before))["allowed"] is False


def test_delete_of_a_governed_object_is_allowed_under_a_kill_switch(client, kill_switch_engaged):
    body = sent(None, stored_deployment(), operation="DELETE")
    assert admit(client, body) == {"uid": body["request"]["uid"], "allowed": True}
    assert not Decision.objects.exists()


# --- dryRun -------------------------------------------------------------------------------


def test_a_dry_run_is_answered_like_a_real_request_and_never_counts_as_deployed(client, governed):
    from governance.inventory.models import Dataset
    from governance.inventory.services import model_version_register

    system = governed["credit-scoring"]
    model_version_register(
        actor=ACTOR,
        system=system,
        datasets=[Dataset.objects.get(slug="loans-2025")],
        parameters={"max_depth": 6},
        version="2.0.0",
        framework="sklearn",
        artifact_format="onnx",
        code_commit_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        evaluation=[{"metric": "auc", "value": 0.95, "threshold": 0.8, "dataset": "holdout"}],
    )
    v2 = {**GOVERNED, "governance.ai/model-version": "2.0.0"}

    def next_input() -> dict:  # what the next decision about v1.4.0 in production sees
        return deployment_input(
            deployment_request_resolve(
                system_slug="credit-scoring",
                version="1.4.0",
                environment="production",
                requester="x",
            )
        )

    dry = admit(client, sent(stored_deployment(labels=v2), operation="CREATE", dry_run=True))
    # A dry run of v2 does not make v2 "the version in production" for the next decision.
    assert next_input()["current_version"] is None
    real = admit(client, sent(stored_deployment(labels=v2), operation="CREATE"))
    assert next_input()["current_version"]["version"] == "2.0.0"
    assert dry["allowed"] is real["allowed"] is True, dry
    assert set(dry) == set(real)
    assert dry.get("warnings") == real.get("warnings")
    decisions = Decision.objects.filter(
        decision_id__in=[
            dry["auditAnnotations"]["decision-id"],
            real["auditAnnotations"]["decision-id"],
        ]
    )
    assert sorted(d.dry_run for d in decisions) == [False, True]
    assert {d.violations == decisions[0].violations for d in decisions} == {True}


def test_the_decision_log_shows_and_filters_dry_runs(client, governed, make_user):
    from governance.accounts.models import Role

    admit(client, sent(stored_deployment(), operation="CREATE", dry_run=True))
    admit(client, sent(stored_deployment(), operation="CREATE"))
    reader = APIClient()
    reader.force_login(make_user(Role.AUDITOR))
    api = reader.get("/api/v1/policy/decisions?dry_run=true").json()
    assert [d["dry_run"] for d in api["results"]] == [True]
    assert len(reader.get("/api/v1/policy/decisions?dry_run=false").json()["results"]) == 1
    page = reader.get("/policy/decisions/?dry_run=true").content.decode()
    assert page.count(">dry run</span>") == 1


# --- KServe InferenceService --------------------------------------------------------------

ISVC = ("serving.kserve.io", "v1beta1", "InferenceService", "inferenceservices")


def inference_service(labels=None, **predictor):
    obj = copy.deepcopy(KSERVE)
    obj["metadata"].update(namespace="ml", labels=dict(labels or {}))
    obj["spec"]["predictor"].update(predictor)
    return obj


@pytest.fixture
def flowers(governed):
    """credit-scoring 1.4.0 is the flowers model at the sample's storageUri."""
    ModelVersion.objects.filter(system=governed["credit-scoring"], version="1.4.0").update(
        artifact_uri=STORAGE_URI
    )


def test_the_kserve_sample_is_resolved_by_its_storage_uri(client, flowers):
    obj = inference_service({"governance.ai/system": "credit-scoring"})
    response = admit(client, sent(obj, operation="CREATE", kind=ISVC))
    assert response["allowed"] is True
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert (decision.system_slug, decision.model_version) == ("credit-scoring", "1.4.0")
    change = decision.input["request"]["change"]
    assert change["storage_uri"] == STORAGE_URI
    assert change["model_format"] == "tensorflow"
    assert change["canary_traffic_percent"] == 10


def test_the_newer_predictor_model_field_is_read(client, flowers):
    obj = inference_service({"governance.ai/system": "credit-scoring"})
    del obj["spec"]["predictor"]["tensorflow"]
    obj["spec"]["predictor"]["model"] = {
        "modelFormat": {"name": "tensorflow"},
        "storageUri": STORAGE_URI + "/",
        "runtime": "kserve-tensorflow-serving",
    }
    response = admit(client, sent(obj, operation="CREATE", kind=ISVC))
    assert response["allowed"] is True
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert decision.model_version == "1.4.0"


def test_an_unregistered_storage_uri_is_a_clear_refusal(client, governed):
    obj = inference_service({"governance.ai/system": "credit-scoring"})
    response = admit(client, sent(obj, operation="CREATE", kind=ISVC))
    assert response["allowed"] is False and response["status"]["code"] == 403
    assert "storageUri registered as a version's artifact URI" in response["status"]["message"]


def test_raising_canary_traffic_is_a_deployment_of_the_canary(client, governed):
    before = inference_service(DENIED, canaryTrafficPercent=10)
    after = inference_service(DENIED, canaryTrafficPercent=50)
    response = admit(client, sent(after, before, kind=ISVC))
    assert response["allowed"] is False and response["status"]["code"] == 403
    decision = Decision.objects.get(decision_id=response["auditAnnotations"]["decision-id"])
    assert decision.input["request"]["change"]["canary_traffic_percent"] == 50


def test_moving_traffic_off_the_canary_is_stopping(client, governed):
    before = inference_service(DENIED, canaryTrafficPercent=50)
    after = inference_service(DENIED, canaryTrafficPercent=0)
    assert admit(client, sent(after, before, kind=ISVC))["allowed"] is True
    assert not Decision.objects.exists()


def test_an_inference_service_status_update_is_not_judged(client, governed):
    before = inference_service(DENIED)
    after = copy.deepcopy(before)
    after["status"] = {"url": "http://my-model.ml.example.com", "conditions": []}
    assert admit(client, sent(after, before, kind=ISVC))["allowed"] is True
    assert not Decision.objects.exists()


def test_in_a_governed_namespace_a_controllers_unlabelled_pod_is_not_refused(client, governed):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "scorer-5d8f7c-x2x9z",
            "namespace": "ml",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "scorer-5d8f7c",
                    "uid": "u",
                    "controller": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "scorer", "image": "registry/scorer:1.4.0"}]},
    }
    body = sent(pod, operation="CREATE", kind=("", "v1", "Pod", "pods"))
    response = client.post(URL + "/governed", body, format="json").json()["response"]
    assert response["allowed"] is True
    del pod["metadata"]["ownerReferences"]
    body = sent(pod, operation="CREATE", kind=("", "v1", "Pod", "pods"))
    response = client.post(URL + "/governed", body, format="json").json()["response"]
    assert response["allowed"] is False and response["status"]["code"] == 403
