"""Fixtures the artifact tests share."""

import pytest

from governance.accounts.models import Role
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create, dataset_create


@pytest.fixture
def system(make_user):
    """An AI system with one known dataset (beans), owned by a requester."""
    actor = Actor.system("tests")
    owner = make_user(Role.REQUESTER, username="owner")
    dataset_create(
        actor=actor,
        slug="beans",
        name="Beans",
        source="hf://beans",
        owner=owner,
        classification="public",
        lineage_uri="https://huggingface.co/datasets/beans",
    )
    return ai_system_create(actor=actor, slug="scorer", name="Scorer", owner=owner, risk_tier="low")
