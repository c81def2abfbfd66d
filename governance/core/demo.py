"""Demo data for `make run`: a user for each role and a few AI systems, all through services."""

from dataclasses import dataclass

from django.db import transaction

from governance.accounts.models import Role, User
from governance.accounts.services import user_create
from governance.core.actor import Actor
from governance.inventory.models import AISystem
from governance.inventory.services import ai_system_create

DEMO_USERS = (
    ("admin", Role.ADMIN, "Ada", "Admin"),
    ("auditor", Role.AUDITOR, "Aude", "Auditor"),
    ("approver", Role.APPROVER, "Arjun", "Approver"),
    ("requester", Role.REQUESTER, "Rita", "Requester"),
    ("oncall", Role.INCIDENT_COMMANDER, "Ines", "Commander"),
    ("viewer", Role.VIEWER, "Vera", "Viewer"),
)

DEMO_SYSTEMS = (
    {
        "slug": "support-copilot",
        "name": "Customer support copilot",
        "description": (
            "LLM assistant that drafts replies to customer tickets, with retrieval over the "
            "help centre and a refund-lookup tool."
        ),
        "owner": "requester",
        "risk_tier": "high",
        "lifecycle_stage": "production",
        "is_genai": True,
    },
    {
        "slug": "credit-risk-scoring",
        "name": "Credit risk scoring",
        "description": (
            "Gradient-boosted model (scikit-learn) scoring consumer loan applications; "
            "adverse-action reasons are generated from SHAP values."
        ),
        "owner": "approver",
        "risk_tier": "critical",
        "lifecycle_stage": "production",
        "is_genai": False,
    },
    {
        "slug": "fraud-detection",
        "name": "Transaction fraud detection",
        "description": "PyTorch sequence model flagging card transactions for review.",
        "owner": "requester",
        "risk_tier": "high",
        "lifecycle_stage": "validation",
        "is_genai": False,
    },
    {
        "slug": "demand-forecast",
        "name": "Demand forecasting",
        "description": "Spark MLlib forecasts of weekly store demand for replenishment.",
        "owner": "requester",
        "risk_tier": "low",
        "lifecycle_stage": "production",
        "is_genai": False,
    },
)


@dataclass
class DemoSeedResult:
    users_created: list[str]
    systems_created: list[str]


def demo_seed(*, actor: Actor, password: str) -> DemoSeedResult:
    """Create what is missing; existing users and systems are left as they are."""
    result = DemoSeedResult([], [])
    with transaction.atomic():
        for username, role, first, last in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                user_create(
                    actor=actor,
                    username=username,
                    role=role,
                    password=password,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                )
                result.users_created.append(username)
        for spec in DEMO_SYSTEMS:
            if not AISystem.objects.filter(slug=spec["slug"]).exists():
                owner = User.objects.get(username=spec["owner"])
                ai_system_create(actor=actor, **{**spec, "owner": owner})
                result.systems_created.append(spec["slug"])
    return result
