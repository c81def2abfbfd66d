"""Demo data for `make run`: a user for each role and a few AI systems, all through services."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from governance.accounts.models import Role, User
from governance.accounts.services import user_create
from governance.controls.models import ControlImplementation, ControlStatus, Subcategory
from governance.controls.services import control_implementation_update, evidence_add
from governance.core.actor import Actor
from governance.incidents.demo import incidents_demo_seed
from governance.inventory.models import AISystem, Dataset
from governance.inventory.services import ai_system_create, dataset_create, model_version_register

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


DEMO_DATASETS = (
    (
        "support-tickets-2025",
        "Support tickets 2025",
        "zendesk export, PII redacted",
        "confidential",
        "https://lineage.example.com/datasets/support-tickets-2025",
    ),
    ("help-centre-articles", "Help centre articles", "cms.example.com", "public", ""),
    (
        "loan-applications-2019-2024",
        "Loan applications 2019-2024",
        "core banking warehouse",
        "restricted",
        "https://lineage.example.com/datasets/loan-applications",
    ),
    ("card-transactions-2025q2", "Card transactions 2025 Q2", "payments lake", "restricted", ""),
)

DEMO_VERSIONS = {
    "support-copilot": {
        "version": "3.2.0",
        "framework": "llm-provider",
        "artifact_format": "provider-hosted",
        "code_commit_sha": "9f2c1e7",
        "parameters": {"model": "gpt-4.1", "temperature": 0.2},
        "evaluation": [
            {
                "metric": "groundedness",
                "value": 0.93,
                "threshold": 0.9,
                "dataset": "support-tickets-2025",
            }
        ],
        "prompt_version": "support-v14",
        "tool_versions": {"refund_lookup": "2.0"},
        "datasets": ["support-tickets-2025", "help-centre-articles"],
    },
    "credit-risk-scoring": {
        "version": "7.1.0",
        "framework": "sklearn",
        "framework_version": "1.5",
        "artifact_format": "onnx",
        "code_commit_sha": "4be01c9d2a",
        "artifact_sha256": "5f" * 32,
        "parameters": {"n_estimators": 400, "max_depth": 6},
        "evaluation": [
            {
                "metric": "auc",
                "value": 0.87,
                "threshold": 0.85,
                "dataset": "loan-applications-2019-2024",
            }
        ],
        "datasets": ["loan-applications-2019-2024"],
    },
    "fraud-detection": {
        "version": "0.9.0",
        "framework": "pytorch",
        "framework_version": "2.5",
        "artifact_format": "pickle",
        "parameters": {"layers": 4},
        "datasets": ["card-transactions-2025q2"],
    },
}

# How far along each demo system is: the share of its required subcategories implemented,
# so the portfolio shows systems at different distances from the framework.
DEMO_PROGRESS = {
    "credit-risk-scoring": 0.75,
    "support-copilot": 0.4,
    "fraud-detection": 0.12,
    "demand-forecast": 0.9,
}


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
        _seed_datasets_and_versions(actor)
        _seed_controls(actor)
        incidents_demo_seed(actor=actor)
    _seed_policy_decisions(actor)
    _seed_releases()
    return result


def _seed_datasets_and_versions(actor: Actor) -> None:
    owner = User.objects.get(username="requester")
    for slug, name, source, classification, lineage in DEMO_DATASETS:
        if not Dataset.objects.filter(slug=slug).exists():
            dataset_create(
                actor=actor,
                slug=slug,
                name=name,
                source=source,
                owner=owner,
                classification=classification,
                lineage_uri=lineage,
            )
    for system_slug, spec in DEMO_VERSIONS.items():
        system = AISystem.objects.get(slug=system_slug)
        if system.versions.exists():
            continue
        spec = dict(spec)
        datasets = list(Dataset.objects.filter(slug__in=spec.pop("datasets")))
        model_version_register(actor=actor, system=system, datasets=datasets, **spec)


def _seed_controls(actor: Actor) -> None:
    """Mark a share of each system's required subcategories implemented, once."""
    owner = User.objects.get(username="approver")
    today = timezone.now().date()
    for slug, share in DEMO_PROGRESS.items():
        system = AISystem.objects.get(slug=slug)
        if ControlImplementation.objects.filter(system=system).exists():
            continue
        required = list(
            Subcategory.objects.filter(tier_requirements__risk_tier=system.risk_tier).order_by(
                "category__function__position", "category__position", "position"
            )
        )
        done = round(len(required) * share)
        for index, sub in enumerate(required):
            if index < done:
                status, reason = ControlStatus.IMPLEMENTED, "Demo: implemented and reviewed"
            elif index < done + 3:
                status, reason = ControlStatus.IN_PROGRESS, "Demo: work started"
            else:
                break
            control_implementation_update(
                actor=actor,
                system=system,
                subcategory=sub,
                reason=reason,
                status=status,
                owner=owner,
                implementation="Documented in the system's governance wiki.",
                last_reviewed_at=today - timedelta(days=30 + index),
                next_review_at=today + timedelta(days=335 - index * 7),
            )
            if index % 5 == 0 and status == ControlStatus.IMPLEMENTED:
                evidence_add(
                    actor=actor,
                    system=system,
                    subcategory=sub,
                    title=f"{sub.code} review record",
                    url=f"https://wiki.example.com/ai/{slug}/{sub.code.replace(' ', '-')}",
                )


def _seed_policy_decisions(actor: Actor) -> None:
    """The shipped policy, and a pipeline's first questions about each demo system's newest
    version, so the decision log has something to show (only once)."""
    from governance.policy.models import Decision, Endpoint
    from governance.policy.selectors import deployment_request_resolve
    from governance.policy.services import decision_evaluate, policy_directory_load

    policy_directory_load(actor=actor)
    if Decision.objects.exists():
        return
    pipeline = Actor.system("demo-pipeline")
    for system in AISystem.objects.filter(archived_at__isnull=True).order_by("slug"):
        newest = system.versions.order_by("-registered_at").first()
        if newest is None:
            continue
        for environment in ("staging", "production"):
            request = deployment_request_resolve(
                system_slug=system.slug,
                version=newest.version,
                environment=environment,
                requester=system.owner.username,
                change={"description": f"Release {newest.version} to {environment}"},
            )
            decision_evaluate(actor=pipeline, endpoint=Endpoint.API, request=request)


DEMO_RELEASES = (
    # (title, system, version, environment, approvers who approve)
    (
        "Support copilot 3.2.0: GPT-4.1 with refund lookup v2",
        "support-copilot",
        "3.2.0",
        "production",
        ["approver"],
    ),
    (
        "Credit risk 7.1.0 to staging for shadow scoring",
        "credit-risk-scoring",
        "7.1.0",
        "staging",
        [],
    ),
    ("Fraud detection 0.9.0 first staging run", "fraud-detection", "0.9.0", "staging", None),
)


def _seed_releases() -> None:
    """A few release requests in different states, made by the demo people through the
    services (None: left as a draft)."""
    from governance.inventory.models import ModelVersion
    from governance.releases.approvals import release_approval_record
    from governance.releases.models import ReleaseRequest
    from governance.releases.services import release_request_create, release_request_submit

    requester = Actor.for_user(User.objects.get(username="requester"))
    for title, slug, version, environment, approvers in DEMO_RELEASES:
        if ReleaseRequest.objects.filter(title=title).exists():
            continue
        model_version = ModelVersion.objects.get(system__slug=slug, version=version)
        release = release_request_create(
            actor=requester,
            system=model_version.system,
            model_version=model_version,
            environment=environment,
            title=title,
            change_summary=f"Ship {slug} {version} to {environment}.",
            justification="Evaluation thresholds met on the latest holdout set.",
            evaluation_links=[f"https://mlflow.example.com/{slug}/{version}"],
        )
        if approvers is None:
            continue
        release = release_request_submit(actor=requester, request=release)
        for username in approvers:
            release_approval_record(
                actor=Actor.for_user(User.objects.get(username=username)),
                request=release,
                decision="approve",
                reason="Demo: evaluation and model card reviewed.",
                content_hash=release.content_hash,
            )
