"""An inventory, an active policy, and the people of a release: a requester, two approvers
and an admin."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from governance.accounts.models import Role, User
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.models import AISystem, ModelVersion
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.services import policy_directory_load
from governance.releases.models import ReleaseRequest
from governance.releases.services import release_request_create

COMPLETE = {
    "code_commit_sha": "a" * 40,
    "parameters": {"max_depth": 6},
    "evaluation": [{"metric": "auc", "value": 0.91, "threshold": 0.8, "dataset": "holdout"}],
}


@dataclass
class Cast:
    rita: User  # requester
    anna: User  # approver
    bert: User  # approver
    ada: User  # admin
    high: AISystem  # production needs 2 approvals
    medium: AISystem  # production needs 1
    low: AISystem  # production needs 0
    high_v: ModelVersion
    medium_v: ModelVersion
    medium_pickle: ModelVersion
    low_v: ModelVersion


def build_cast(make: Callable[..., User]) -> Cast:
    actor = Actor.system("tests")
    rita = make(Role.REQUESTER, username="rita")
    anna = make(Role.APPROVER, username="anna")
    bert = make(Role.APPROVER, username="bert")
    ada = make(Role.ADMIN, username="ada")
    catalog_load(actor=actor)
    dataset = dataset_create(
        actor=actor,
        slug="crm",
        name="CRM",
        source="s3://crm",
        owner=rita,
        classification="internal",
        lineage_uri="https://lineage.example/crm",
    )
    systems, versions = {}, {}
    for tier in ("high", "medium", "low"):
        systems[tier] = ai_system_create(
            actor=actor,
            slug=f"{tier}-sys",
            name=f"{tier.title()} system",
            owner=rita,
            risk_tier=tier,
        )
        versions[tier] = model_version_register(
            actor=actor,
            system=systems[tier],
            version="1.0",
            framework="sklearn",
            artifact_format="onnx",
            datasets=[dataset],
            **COMPLETE,
        )
    pickled = model_version_register(
        actor=actor,
        system=systems["medium"],
        version="1.1-pkl",
        framework="sklearn",
        artifact_format="pickle",
        datasets=[dataset],
        **COMPLETE,
    )
    policy_directory_load(actor=actor)
    return Cast(
        rita=rita,
        anna=anna,
        bert=bert,
        ada=ada,
        high=systems["high"],
        medium=systems["medium"],
        low=systems["low"],
        high_v=versions["high"],
        medium_v=versions["medium"],
        medium_pickle=pickled,
        low_v=versions["low"],
    )


@pytest.fixture
def cast(db: None, make_user: Callable[..., User]) -> Cast:
    return build_cast(make_user)


def as_user(user: User) -> Actor:
    return Actor.for_user(user)


def draft(
    cast: Cast,
    *,
    system: AISystem | None = None,
    version: ModelVersion | None = None,
    environment: str = "production",
    title: str = "Ship 1.0",
) -> ReleaseRequest:
    return release_request_create(
        actor=as_user(cast.rita),
        system=system or cast.high,
        model_version=version or cast.high_v,
        environment=environment,
        title=title,
        change_summary="New gradient boosting model, retrained on Q2 data.",
        justification="AUC up 3 points on the holdout set.",
        evaluation_links=["https://mlflow.example/runs/42"],
    )
