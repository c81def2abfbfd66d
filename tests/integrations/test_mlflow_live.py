"""Against a real MLflow tracking server: a data scientist logs and registers models with
MLflow's own client and sets aliases; the product, without anyone typing into it, registers
the versions (framework, signature, datasets, facts from the files) and decides each mapped
alias with the policy, writing the decision back as tags and taking a denied alias off."""

import json
import textwrap

import pytest

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.incidents.models import SeverityLevel, TimelineEntry
from governance.incidents.services import incident_open
from governance.incidents.severity import severity_levels_ensure
from governance.integrations.kill_switches import registry_aliases_reconcile
from governance.integrations.models import DeliveryStatus, RegistryDelivery
from governance.integrations.services import (
    alias_mapping_add,
    integration_create,
    model_mapping_add,
)
from governance.inventory.models import ModelVersion
from governance.inventory.services import ai_system_create
from governance.policy.services import policy_directory_load
from governance.runtime.services import kill_switch_create, kill_switch_engage

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "mlflow-webhook-secret-for-tests"

CLIENT = textwrap.dedent(
    """
    import json, os, time
    import mlflow, numpy as np, pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    client = MlflowClient()
    client.create_webhook(
        name="governance", url=os.environ["WEBHOOK_URL"], secret=os.environ["SECRET"],
        events=["model_version.created", "model_version_alias.created"],
    )

    def wait_tag(version, key, seconds=180):
        deadline = time.time() + seconds
        while time.time() < deadline:
            tags = client.get_model_version("churn", version).tags
            if key in tags:
                return tags
            time.sleep(0.5)
        raise SystemExit(f"no {key} on version {version}: {tags}")

    X = pd.DataFrame({"tenure": np.arange(40.0), "plan": np.arange(40.0) % 3})
    y = (X.tenure > 19).astype(int)

    def log(commit=None):
        with mlflow.start_run():
            if commit:
                mlflow.set_tag("mlflow.source.git.commit", commit)
            data = mlflow.data.from_pandas(
                X, name="churn-train-2026", source="https://data.example/churn.parquet"
            )
            mlflow.log_input(data, context="training")
            mlflow.log_param("C", 1.0)
            mlflow.log_metric("auc", 0.93)
            model = LogisticRegression().fit(X, y)
            info = mlflow.sklearn.log_model(
                model, name="model", input_example=X.head(2), registered_model_name="churn"
            )
        return str(info.registered_model_version)

    out = {}
    v1 = log()  # no git commit: the metadata contract is incomplete
    out["v1_registered"] = wait_tag(v1, "governance.status")
    client.set_registered_model_alias("churn", "champion", v1)
    out["v1_decided"] = wait_tag(v1, "governance.decision_id")
    time.sleep(1)
    out["aliases_after_v1"] = client.get_registered_model("churn").aliases
    v2 = log(commit="0123456789abcdef0123456789abcdef01234567")
    wait_tag(v2, "governance.status")
    client.set_registered_model_alias("churn", "candidate", v2)
    out["v2_decided"] = wait_tag(v2, "governance.decision_id")
    out["aliases_after_v2"] = client.get_registered_model("churn").aliases
    print(json.dumps(out))
    """
)


def test_registry_feeds_the_inventory_and_denied_alias_comes_off(
    mlflow_server, live_server, eager_tasks, loopback_allowed, make_user
):
    actor = Actor.system("tests")
    owner = make_user(Role.REQUESTER, username="ds-owner")
    system = ai_system_create(actor=actor, slug="churn", name="Churn", owner=owner, risk_tier="low")
    policy_directory_load(actor=actor)
    integration = integration_create(
        actor=actor,
        slug="team-mlflow",
        kind="mlflow",
        name="Team MLflow",
        endpoint=mlflow_server.url,
        secret=SECRET,
    )
    model_mapping_add(actor=actor, integration=integration, registry_model="churn", system=system)
    alias_mapping_add(
        actor=actor, integration=integration, alias="champion", environment="production"
    )
    alias_mapping_add(
        actor=actor, integration=integration, alias="candidate", environment="staging"
    )

    out = json.loads(
        mlflow_server.client(
            CLIENT, WEBHOOK_URL=f"{live_server.url}/webhooks/mlflow/team-mlflow", SECRET=SECRET
        )
        .strip()
        .splitlines()[-1]
    )

    # Registered without anyone typing: framework, signature and datasets from MLflow.
    v1 = ModelVersion.objects.get(system=system, version="1")
    assert v1.framework == "sklearn"
    assert v1.artifact_format == "mlflow"
    assert v1.artifact["format"] == "mlmodel"
    # MLflow 3.17 saves scikit-learn models with skops; the inspector read that file too.
    assert v1.artifact["details"]["parts"]["model.skops"]["format"] == "skops"
    assert v1.artifact["sha256"] == v1.artifact_sha256
    assert [i["name"] for i in v1.inference_signature["inputs"]] == ["tenure", "plan"]
    assert [d.slug for d in v1.datasets.all()] == ["churn-train-2026"]
    assert v1.datasets.get().lineage_uri == "https://data.example/churn.parquet"
    assert v1.parameters == {"C": "1.0"}
    assert v1.evaluation == [{"metric": "auc", "value": 0.93}]
    assert v1.registered_by == "system:mlflow:team-mlflow"
    assert out["v1_registered"]["governance.inventory"] == "churn@1"
    assert out["v1_registered"]["governance.artifact_sha256"] == v1.artifact_sha256

    # champion -> production, denied (no code commit): the alias came back off, reasons as tags.
    decided = out["v1_decided"]
    assert decided["governance.status"] == "denied"
    assert "metadata.incomplete" in decided["governance.violations"]
    assert "champion" not in out["aliases_after_v1"]
    status, body = mlflow_server.get(
        "/api/2.0/mlflow/registered-models/alias", name="churn", alias="champion"
    )
    assert status == 400 and "not found" in body["message"]  # MLflow's answer for "no alias"
    removed = AuditEvent.objects.get(action="integrations.mlflow.alias_removed")
    assert removed.after["alias"] == "champion" and "metadata.incomplete" in removed.reason

    # candidate -> staging on a complete version: allowed, and the alias stays.
    assert out["v2_decided"]["governance.status"] == "allowed"
    assert out["aliases_after_v2"].get("candidate") == "2"
    v2 = ModelVersion.objects.get(system=system, version="2")
    assert v2.code_commit_sha == "0123456789abcdef0123456789abcdef01234567"
    assert v2.missing_metadata == []

    deliveries = RegistryDelivery.objects.filter(integration=integration)
    assert {d.event for d in deliveries} == {"model_version.created", "model_version_alias.created"}
    assert all(d.status == DeliveryStatus.PROCESSED for d in deliveries), [
        (d.event, d.status, d.detail) for d in deliveries
    ]
    alias_decisions = [d.decision for d in deliveries if d.decision is not None]
    assert {d.environment for d in alias_decisions} == {"production", "staging"}
    assert all(d.endpoint == "mlflow" for d in alias_decisions)

    # A kill switch on the system takes the mapped alias off (the beat task's reconcile).
    severity_levels_ensure()
    commander = make_user(Role.INCIDENT_COMMANDER, username="oncall-1")
    incident = incident_open(
        actor=Actor.for_user(commander),
        title="Churn scores drift",
        severity=SeverityLevel.objects.get(code="SEV2"),
        systems=[system],
        commander=commander,
    )
    switch = kill_switch_create(actor=actor, key="churn-stop", system=system, scope="system")
    assert registry_aliases_reconcile() == {"removed": [], "errors": []}  # nothing engaged yet
    kill_switch_engage(
        actor=Actor.for_user(commander), switch=switch, reason="drift", incident=incident
    )
    assert registry_aliases_reconcile() == {
        "removed": ["team-mlflow/churn@candidate (v2)"],
        "errors": [],
    }
    status, body = mlflow_server.get(
        "/api/2.0/mlflow/registered-models/alias", name="churn", alias="candidate"
    )
    assert status == 400 and "not found" in body["message"]
    assert registry_aliases_reconcile()["removed"] == []  # already off: nothing to do
    note = TimelineEntry.objects.filter(incident=incident, message__contains="candidate").get()
    assert "churn-stop" in note.message
    removal = AuditEvent.objects.filter(action="integrations.mlflow.alias_removed").latest(
        "sequence"
    )
    assert "Kill switch churn-stop" in removal.reason
