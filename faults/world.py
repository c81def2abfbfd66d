"""What the fault suite needs inside the stack, through the services (so every change is
audited): `world.py setup` prints the tokens and names as JSON; `world.py slow` and
`world.py healthy` activate a pathological policy version or the shipped one; `world.py
facts` prints what the database holds (reports, switches, audit events, the outbox)."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")

import django

django.setup()

from governance.accounts.models import Role, User  # noqa: E402
from governance.accounts.permissions import Perm  # noqa: E402
from governance.accounts.services import api_token_create  # noqa: E402
from governance.controls.services import catalog_load  # noqa: E402
from governance.core.actor import Actor  # noqa: E402

ACTOR = Actor.system("faults")
SWITCHES = [f"faults-switch-{i}" for i in range(4)]
# Seconds of CPU and a growing heap per evaluation.
SLOW = """package governance.deployment
import rego.v1
nums := numbers.range(1, 300000000)
decision := {"allow": count([n | some n in nums; n > 0]) > 0, "violations": []}
"""


def setup() -> dict:
    from governance.inventory.services import (
        ai_system_create,
        dataset_create,
        model_version_register,
    )
    from governance.policy.services import policy_directory_load
    from governance.runtime.services import kill_switch_create

    admin = User.objects.create_user(username="faults-admin", password=None, role=Role.ADMIN)
    catalog_load(actor=ACTOR)
    dataset = dataset_create(
        actor=ACTOR,
        slug="faults-crm",
        name="CRM",
        source="s3://crm",
        owner=admin,
        classification="internal",
        lineage_uri="https://lineage.example/crm",
    )
    system = ai_system_create(
        actor=ACTOR, slug="faults-churn", name="Churn", owner=admin, risk_tier="medium"
    )
    model_version_register(
        actor=ACTOR,
        system=system,
        version="2.0",
        framework="sklearn",
        artifact_format="onnx",
        datasets=[dataset],
        code_commit_sha="a" * 40,
        parameters={"depth": 6},
        evaluation=[{"metric": "auc", "value": 0.91, "threshold": 0.8}],
    )
    # The switches stop another system: the policy checks must not be refused by them.
    stopped = ai_system_create(
        actor=ACTOR, slug="faults-support", name="Support bot", owner=admin, risk_tier="low"
    )
    for key in SWITCHES:
        kill_switch_create(actor=ACTOR, key=key, system=stopped, scope="system")
    policy_directory_load(actor=ACTOR)
    by = Actor.for_user(admin)
    tokens = {
        "commander": api_token_create(
            actor=by, name="commander", scopes=[Perm.KILLSWITCHES_FLIP, Perm.KILLSWITCHES_READ]
        )[1],
        "auditor": api_token_create(actor=by, name="auditor", scopes=[Perm.REPORTS_GENERATE])[1],
        "pipeline": api_token_create(actor=by, name="pipeline", scopes=[Perm.POLICY_CHECK])[1],
    }
    return {"tokens": tokens, "switches": SWITCHES, "system": "faults-churn", "version": "2.0"}


def activate(which: str) -> dict:
    from governance.policy.models import PolicyVersion
    from governance.policy.services import policy_version_activate, policy_version_create

    if which == "slow":
        version = policy_version_create(
            actor=ACTOR, modules={"slow.rego": SLOW}, data={}, note="fault drill: runaway"
        )
    else:
        version = PolicyVersion.objects.exclude(modules__has_key="slow.rego").order_by("-number")[0]
    policy_version_activate(actor=ACTOR, version=version, reason=f"fault drill: {which}")
    return {"active": version.number}


def facts() -> dict:
    from governance.audit.models import AuditChainVerification, AuditEvent
    from governance.core.models import OutboxMessage
    from governance.reports.models import Report
    from governance.runtime.models import KillSwitch

    return {
        "reports": {
            str(r.public_id): {"status": r.status, "attempts": r.attempts, "error": r.error}
            for r in Report.objects.all()
        },
        "switches": {
            s.key: {"state": s.state, "version": s.version} for s in KillSwitch.objects.all()
        },
        "audit": {
            "reports.requested": list(
                AuditEvent.objects.filter(action="reports.requested").values_list(
                    "target_id", flat=True
                )
            ),
            "flips": [
                [e.target_id, e.action, (e.after or {}).get("version")]
                for e in AuditEvent.objects.filter(
                    action__in=["incidents.killswitch.engaged", "incidents.killswitch.released"]
                )
            ],
            "timing_out": AuditEvent.objects.filter(action="policy.version.timing_out").count(),
            "verifications": AuditChainVerification.objects.count(),
        },
        "outbox_pending": OutboxMessage.objects.filter(done_at__isnull=True).count(),
    }


if __name__ == "__main__":
    command = sys.argv[1]
    result = {"setup": setup, "facts": facts}.get(command, lambda: activate(command))()
    print(json.dumps(result))
