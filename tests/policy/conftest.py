"""An inventory and an active policy to decide against."""

from dataclasses import dataclass

import pytest

from governance.accounts.models import Role, User
from governance.controls.services import catalog_load
from governance.core.actor import Actor
from governance.inventory.models import AISystem, ModelVersion
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.models import PolicyVersion
from governance.policy.services import policy_directory_load

COMPLETE = {
    "code_commit_sha": "a" * 40,
    "parameters": {"max_depth": 6},
    "evaluation": [{"metric": "auc", "value": 0.91, "threshold": 0.8, "dataset": "holdout"}],
}


@dataclass
class World:
    owner: User
    system: AISystem
    good: ModelVersion  # passes every check in staging
    pickled: ModelVersion  # a pickle, refused in production
    policy: PolicyVersion


@pytest.fixture
def world(db: None, make_user) -> World:
    actor = Actor.system("tests")
    owner = make_user(Role.REQUESTER, username="owner")
    catalog_load(actor=actor)
    dataset = dataset_create(
        actor=actor,
        slug="crm-2026",
        name="CRM",
        source="s3://crm",
        owner=owner,
        classification="internal",
        lineage_uri="https://lineage.example/crm",
    )
    system = ai_system_create(
        actor=actor, slug="churn", name="Churn model", owner=owner, risk_tier="low"
    )
    good = model_version_register(
        actor=actor,
        system=system,
        version="2.0",
        framework="sklearn",
        artifact_format="onnx",
        datasets=[dataset],
        **COMPLETE,
    )
    pickled = model_version_register(
        actor=actor,
        system=system,
        version="2.1-pkl",
        framework="sklearn",
        artifact_format="pickle",
        datasets=[dataset],
        **COMPLETE,
    )
    policy = policy_directory_load(actor=actor)
    return World(owner=owner, system=system, good=good, pickled=pickled, policy=policy)
