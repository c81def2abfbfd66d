"""Walk every URL with every role, anonymous, and machine tokens; fail on any unexpected allow.

URLs are discovered from the resolver, so a new URL fails this test until it is classified in
EXPECTED: nobody can add an endpoint and forget to decide who may use it.
"""

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, StringConverter, UUIDConverter
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import TOKEN_SCOPES, Perm
from governance.controls.models import Subcategory
from governance.controls.services import catalog_load, evidence_add
from governance.core.actor import Actor
from governance.incidents.models import SeverityLevel
from governance.incidents.runbook_templates import runbook_create_from_template
from governance.incidents.runbooks import runbook_start
from governance.incidents.selectors import incident_runs
from governance.incidents.services import incident_open
from governance.inventory.services import ai_system_create, dataset_create, model_version_register
from governance.policy.selectors import deployment_request_resolve
from governance.policy.services import decision_evaluate, policy_directory_load
from governance.reports.models import Report
from governance.runtime.services import kill_switch_create
from tests.core.csp import csp_problems

pytestmark = pytest.mark.django_db

ANON = "anonymous"
TOKENS = {f"token:{scope}" for scope in TOKEN_SCOPES}
EVERYONE = {ANON, *Role.values, *TOKENS}
SIGNED_IN = set(Role.values)
ADMIN, AUDITOR, REQUESTER = Role.ADMIN.value, Role.AUDITOR.value, Role.REQUESTER.value
APPROVER = Role.APPROVER.value
DECISION_READERS = SIGNED_IN - {Role.VIEWER.value}
COMMANDER = Role.INCIDENT_COMMANDER.value
FLIPPERS = {ADMIN, COMMANDER, APPROVER}
RESPONDERS = {ADMIN, COMMANDER}
SWITCH_READERS = SIGNED_IN | {f"token:{Perm.KILLSWITCHES_READ}"}
INCIDENT_READERS = SIGNED_IN | {f"token:{Perm.INCIDENTS_VIEW}"}

# (url name, method) -> who may pass. Token principals are "token:<scope>".
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("core:home", "GET"): EVERYONE,  # a redirect to the dashboard
    ("core:healthz", "GET"): EVERYONE,
    ("core:favicon", "GET"): EVERYONE,  # a redirect to the static icon
    ("core:dashboard", "GET"): SIGNED_IN,
    ("accounts:login", "GET"): EVERYONE,
    ("accounts:login", "POST"): EVERYONE,
    ("accounts:logout", "POST"): EVERYONE,
    ("accounts:token-list", "GET"): {ADMIN},
    ("accounts:token-list", "POST"): {ADMIN},
    ("accounts:token-revoke", "POST"): {ADMIN},
    ("accounts:user-list", "GET"): {ADMIN},
    ("accounts:user-role", "POST"): {ADMIN},
    ("audit:explorer", "GET"): {ADMIN, AUDITOR},
    ("audit:verify", "POST"): {ADMIN, AUDITOR},
    ("inventory:system-list", "GET"): SIGNED_IN,
    ("inventory:system-create", "GET"): {ADMIN, REQUESTER},
    ("inventory:system-create", "POST"): {ADMIN, REQUESTER},
    ("inventory:system-detail", "GET"): SIGNED_IN,
    ("inventory:system-edit", "GET"): {ADMIN, REQUESTER},
    ("inventory:system-edit", "POST"): {ADMIN, REQUESTER},
    ("inventory:system-archive", "POST"): {ADMIN, REQUESTER},
    ("inventory:version-register", "GET"): {ADMIN, REQUESTER},
    ("inventory:version-register", "POST"): {ADMIN, REQUESTER},
    ("inventory:version-archive", "POST"): {ADMIN, REQUESTER},
    ("inventory:dataset-create", "GET"): {ADMIN, REQUESTER},
    ("inventory:dataset-create", "POST"): {ADMIN, REQUESTER},
    ("controls:catalog", "GET"): SIGNED_IN,
    ("controls:portfolio", "GET"): SIGNED_IN,
    ("controls:applicability", "GET"): SIGNED_IN,
    ("controls:applicability", "POST"): {ADMIN},
    ("controls:control-detail", "GET"): SIGNED_IN,
    ("controls:control-detail", "POST"): {ADMIN, REQUESTER, APPROVER},
    ("controls:evidence-download", "GET"): SIGNED_IN,
    ("controls:ai-act", "GET"): SIGNED_IN,
    ("controls:ai-act", "POST"): {ADMIN},
    ("controls:crosswalk-edit", "POST"): {ADMIN},
    ("api:me", "GET"): SIGNED_IN | {f"token:{Perm.ACCOUNT_VIEW}"},
    ("api:audit-events", "GET"): {ADMIN, AUDITOR, f"token:{Perm.AUDIT_VIEW}"},
    ("api:audit-export", "GET"): {ADMIN, AUDITOR, f"token:{Perm.AUDIT_EXPORT}"},
    ("audit:public-keys", "GET"): EVERYONE,  # the checkpoint verifier keys are public
    ("api:audit-event-proof", "GET"): {AUDITOR, f"token:{Perm.AUDIT_PROOFS}"},
    ("api:audit-consistency-proof", "GET"): {AUDITOR, f"token:{Perm.AUDIT_PROOFS}"},
    ("api:audit-checkpoints", "GET"): {AUDITOR, f"token:{Perm.AUDIT_PROOFS}"},
    ("api:systems", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:systems", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:system-detail", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:system-detail", "PATCH"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:systems-import", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:system-archive", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:versions", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:versions", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:artifacts-inspect", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:versions-from-artifact", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("artifacts:version-from-artifact", "GET"): {ADMIN, REQUESTER},
    ("artifacts:version-from-artifact", "POST"): {ADMIN, REQUESTER},
    ("api:version-detail", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:version-detail", "PATCH"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:version-archive", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:datasets", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:datasets", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:dataset-detail", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:dataset-detail", "PATCH"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:dataset-archive", "POST"): {ADMIN, REQUESTER, f"token:{Perm.INVENTORY_MANAGE}"},
    ("api:subcategories", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:subcategory-detail", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:subcategory-crosswalk", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:subcategory-crosswalk", "PUT"): {ADMIN},
    ("api:frameworks", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:ai-act", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:ai-act", "PUT"): {ADMIN},
    ("api:portfolio-coverage", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:system-coverage", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:controls", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:controls-export", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:control-detail", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:control-detail", "PATCH"): {ADMIN, REQUESTER, APPROVER, f"token:{Perm.CONTROLS_MANAGE}"},
    ("api:control-evidence", "POST"): {ADMIN, REQUESTER, APPROVER, f"token:{Perm.CONTROLS_MANAGE}"},
    ("policy:overview", "GET"): SIGNED_IN,
    ("policy:data-edit", "GET"): {ADMIN},
    ("policy:data-edit", "POST"): {ADMIN},
    ("policy:version-list", "GET"): SIGNED_IN,
    ("policy:version-detail", "GET"): SIGNED_IN,
    ("policy:version-detail", "POST"): {ADMIN},
    ("policy:try", "GET"): {ADMIN, REQUESTER, APPROVER},
    ("policy:try", "POST"): {ADMIN, REQUESTER, APPROVER},
    ("policy:decision-list", "GET"): DECISION_READERS,
    ("policy:decision-detail", "GET"): DECISION_READERS,
    ("api:policy-check", "POST"): {ADMIN, REQUESTER, APPROVER, f"token:{Perm.POLICY_CHECK}"},
    ("api:policy-decisions", "GET"): DECISION_READERS | {f"token:{Perm.DECISIONS_VIEW}"},
    ("api:policy-decision-detail", "GET"): DECISION_READERS | {f"token:{Perm.DECISIONS_VIEW}"},
    ("api:policy-versions", "GET"): SIGNED_IN | {f"token:{Perm.POLICY_VIEW}"},
    ("api:policy-versions", "POST"): {ADMIN},
    ("api:policy-version-detail", "GET"): SIGNED_IN | {f"token:{Perm.POLICY_VIEW}"},
    ("api:policy-version-activate", "POST"): {ADMIN},
    ("api:policy-version-shadow", "POST"): {ADMIN},
    ("api:policy-version-shadow-stop", "POST"): {ADMIN},
    ("incidents:board", "GET"): SIGNED_IN,
    ("incidents:incident-open", "GET"): RESPONDERS,
    ("incidents:incident-open", "POST"): RESPONDERS,
    ("incidents:incident-detail", "GET"): SIGNED_IN,
    ("incidents:incident-serious", "POST"): RESPONDERS,
    ("incidents:incident-serious-submission", "POST"): RESPONDERS,
    ("incidents:incident-status", "POST"): RESPONDERS,
    ("incidents:incident-severity", "POST"): RESPONDERS,
    ("incidents:incident-note", "POST"): RESPONDERS,
    ("incidents:incident-postmortem", "POST"): RESPONDERS,
    ("incidents:runbook-start", "POST"): RESPONDERS,
    ("incidents:step-perform", "POST"): RESPONDERS,
    ("incidents:kill-switch-panel", "GET"): SIGNED_IN,
    ("incidents:kill-switch-panel", "POST"): RESPONDERS,
    ("incidents:kill-switch-card", "GET"): SIGNED_IN,
    ("incidents:kill-switch-flip", "POST"): FLIPPERS,
    ("incidents:kill-switch-attach", "POST"): FLIPPERS,
    ("incidents:kill-switch-cancel-release", "POST"): FLIPPERS,
    ("incidents:runbook-list", "GET"): SIGNED_IN,
    ("incidents:runbook-list", "POST"): RESPONDERS,
    ("incidents:runbook-detail", "GET"): SIGNED_IN,
    ("incidents:runbook-detail", "POST"): RESPONDERS,
    ("incidents:severity-levels", "GET"): SIGNED_IN,
    ("incidents:severity-levels", "POST"): {ADMIN},
    ("api:kill-switches", "GET"): SWITCH_READERS,
    ("api:kill-switch-stream", "GET"): SWITCH_READERS,
    ("api:kill-switch-detail", "GET"): SWITCH_READERS,
    ("api:kill-switch-engage", "POST"): FLIPPERS | {f"token:{Perm.KILLSWITCHES_FLIP}"},
    ("api:kill-switch-release", "POST"): FLIPPERS | {f"token:{Perm.KILLSWITCHES_FLIP}"},
    ("api:runtime-controls", "GET"): SWITCH_READERS,
    ("api:runtime-controls", "POST"): RESPONDERS,
    ("api:runtime-control-detail", "GET"): SWITCH_READERS,
    ("api:runtime-control-set", "POST"): FLIPPERS | {f"token:{Perm.KILLSWITCHES_FLIP}"},
    ("ofrep:evaluate-flags", "POST"): SWITCH_READERS,
    ("ofrep:evaluate-flag", "POST"): SWITCH_READERS,
    ("ofrep:configuration", "GET"): SWITCH_READERS,
    ("api:incidents", "GET"): INCIDENT_READERS,
    ("api:incidents", "POST"): RESPONDERS,
    ("api:incident-detail", "GET"): INCIDENT_READERS,
    ("api:severity-levels", "GET"): INCIDENT_READERS,
    ("reports:list", "GET"): {ADMIN, AUDITOR},
    ("reports:list", "POST"): {ADMIN, AUDITOR},
    ("reports:row", "GET"): {ADMIN, AUDITOR},
    ("reports:retry", "POST"): {ADMIN, AUDITOR},
    ("reports:download", "GET"): {ADMIN, AUDITOR},
    ("api:reports", "GET"): {ADMIN, AUDITOR, f"token:{Perm.REPORTS_GENERATE}"},
    ("api:reports", "POST"): {ADMIN, AUDITOR, f"token:{Perm.REPORTS_GENERATE}"},
    ("api:report-detail", "GET"): {ADMIN, AUDITOR, f"token:{Perm.REPORTS_GENERATE}"},
    ("api:report-retry", "POST"): {ADMIN, AUDITOR, f"token:{Perm.REPORTS_GENERATE}"},
    ("api:report-download", "GET"): {ADMIN, AUDITOR, f"token:{Perm.REPORTS_DOWNLOAD}"},
    ("api:export-systems", "GET"): SIGNED_IN | {f"token:{Perm.INVENTORY_VIEW}"},
    ("api:export-controls", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:export-coverage", "GET"): SIGNED_IN | {f"token:{Perm.CONTROLS_VIEW}"},
    ("api:export-audit-events", "GET"): {ADMIN, AUDITOR, f"token:{Perm.AUDIT_EXPORT}"},
    ("api-schema", "GET"): EVERYONE,
    ("api-docs", "GET"): EVERYONE,
    ("webhooks:k8s-admission", "POST"): {ADMIN, REQUESTER, APPROVER, f"token:{Perm.POLICY_CHECK}"},
    ("webhooks:k8s-admission-governed", "POST"): {
        ADMIN,
        REQUESTER,
        APPROVER,
        f"token:{Perm.POLICY_CHECK}",
    },
    ("webhooks:github-deployment-protection", "POST"): set(),  # a valid signature only
    ("integrations:mlflow-webhook", "POST"): set(),  # a valid MLflow signature only
    ("integrations:huggingface-webhook", "POST"): set(),  # the Hub webhook secret only
    ("integrations:sagemaker-webhook", "POST"): set(),  # the EventBridge connection's API key
    ("integrations:list", "GET"): {ADMIN},
    ("integrations:list", "POST"): {ADMIN},
    ("integrations:detail", "GET"): {ADMIN},
    ("integrations:detail", "POST"): {ADMIN},
    ("gates:environments", "GET"): {ADMIN},
    ("gates:environments", "POST"): {ADMIN},
    ("gates:environment-delete", "POST"): {ADMIN},
    ("gates:github-deliveries", "GET"): {ADMIN},
    ("gates:github-retry", "POST"): {ADMIN},
    ("releases:queue", "GET"): SIGNED_IN,
    ("releases:create", "GET"): {ADMIN, REQUESTER},
    ("releases:create", "POST"): {ADMIN, REQUESTER},
    ("releases:detail", "GET"): SIGNED_IN,
    ("releases:edit", "GET"): {ADMIN, REQUESTER},
    ("releases:edit", "POST"): {ADMIN, REQUESTER},
    ("releases:decide", "POST"): {ADMIN, APPROVER},
    ("releases:submit", "POST"): {ADMIN, REQUESTER},
    ("releases:recheck", "POST"): {ADMIN, REQUESTER, APPROVER},
    ("releases:withdraw", "POST"): {ADMIN, REQUESTER},
    ("releases:deploy", "POST"): {ADMIN, REQUESTER},
    ("releases:rollback", "POST"): {ADMIN, REQUESTER},
    ("releases:assignments", "GET"): {ADMIN},
    ("releases:assignments", "POST"): {ADMIN},
    ("releases:assignment-delete", "POST"): {ADMIN},
    ("api:releases", "GET"): SIGNED_IN | {f"token:{Perm.RELEASES_VIEW}"},
    ("api:releases", "POST"): {ADMIN, REQUESTER},
    ("api:release-detail", "GET"): SIGNED_IN | {f"token:{Perm.RELEASES_VIEW}"},
    ("api:release-detail", "PATCH"): {ADMIN, REQUESTER},
    ("api:release-submit", "POST"): {ADMIN, REQUESTER},
    ("api:release-withdraw", "POST"): {ADMIN, REQUESTER},
    ("api:release-approvals", "POST"): {ADMIN, APPROVER},
    ("api:release-deploy", "POST"): {ADMIN, REQUESTER, f"token:{Perm.RELEASES_DEPLOY}"},
    ("api:release-rollback", "POST"): {ADMIN, REQUESTER, f"token:{Perm.RELEASES_DEPLOY}"},
    ("api:release-assignments", "GET"): SIGNED_IN | {f"token:{Perm.RELEASES_VIEW}"},
    ("api:release-assignments", "POST"): {ADMIN},
    ("api:release-assignment-detail", "DELETE"): {ADMIN},
    ("outbound:subscriptions", "GET"): {ADMIN},
    ("outbound:subscriptions", "POST"): {ADMIN},
    ("outbound:subscription-toggle", "POST"): {ADMIN},
    ("outbound:deliveries", "GET"): {ADMIN},
    ("outbound:redeliver", "POST"): {ADMIN},
    ("api:webhook-subscriptions", "GET"): {ADMIN},
    ("api:webhook-subscriptions", "POST"): {ADMIN},
    ("api:webhook-subscription-active", "POST"): {ADMIN},
    ("api:webhook-deliveries", "GET"): {ADMIN},
    ("api:webhook-redeliver", "POST"): {ADMIN},
}


def walk(patterns: list, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry


def methods_of(pattern: URLPattern) -> list[str]:
    view = pattern.callback
    cls = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if cls is None:
        return ["GET"]
    allowed = getattr(view, "view_initkwargs", {}).get("http_method_names", cls.http_method_names)
    return [
        m.upper()
        for m in ("get", "post", "put", "patch", "delete")
        if m in allowed and hasattr(cls, m)
    ]


def discovered() -> list[tuple[str, str, URLPattern]]:
    return [
        (name, method, pattern)
        for name, pattern in walk(get_resolver().url_patterns)
        for method in methods_of(pattern)
    ]


def test_every_url_is_classified():
    found = {(name, method) for name, method, _ in discovered()}
    assert found - set(EXPECTED) == set(), "classify the new URLs in EXPECTED"
    assert set(EXPECTED) - found == set(), "EXPECTED names URLs that no longer exist"


def denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "")
    # Login-required pages send people to the login page with ?next=; logout sends them there
    # without it, and that is not a denial.
    return response.status_code == 302 and location.startswith("/login/?next=")


@pytest.fixture
def principals(make_user, make_token, admin_user) -> dict[str, APIClient]:
    clients: dict[str, APIClient] = {ANON: APIClient()}
    for role in Role.values:
        client = APIClient()
        client.force_login(make_user(role))
        clients[role] = client
    for scope in TOKEN_SCOPES:
        _, secret = make_token([scope])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        clients[f"token:{scope}"] = client
    return clients


def test_every_principal_gets_exactly_what_the_matrix_allows(principals, make_token, admin_user):
    system = ai_system_create(
        actor=Actor.system("tests"),
        slug="matrix-system",
        name="Matrix",
        owner=admin_user,
        risk_tier="low",
    )
    token, _ = make_token([Perm.INVENTORY_VIEW], name="matrix-token")
    catalog_load(actor=Actor.system("tests"))
    dataset_create(
        actor=Actor.system("tests"),
        slug="matrix-system",
        name="Data",
        source="s3://x",
        owner=admin_user,
        classification="internal",
    )
    model_version_register(
        actor=Actor.system("tests"),
        system=system,
        version="1.0",
        framework="sklearn",
        artifact_format="onnx",
    )
    evidence = evidence_add(
        actor=Actor.system("tests"),
        system=system,
        subcategory=Subcategory.objects.get(code="GOVERN 1.1"),
        title="Register",
        upload=SimpleUploadedFile("register.txt", b"register"),
    )
    policy = policy_directory_load(actor=Actor.system("tests"))
    decision = decision_evaluate(
        actor=Actor.system("tests"),
        endpoint="api",
        request=deployment_request_resolve(
            system_slug=system.slug, version="1.0", environment="staging", requester="x"
        ),
    )
    switch = kill_switch_create(
        actor=Actor.system("tests"), key="matrix-system", system=system, scope="system"
    )
    incident = incident_open(
        actor=Actor.system("tests"),
        title="Matrix incident",
        severity=SeverityLevel.objects.get(code="SEV3"),
        systems=[system],
        commander=admin_user,
    )
    runbook = runbook_create_from_template(
        actor=Actor.system("tests"),
        system=system,
        template="disable-tool",
        slug="matrix-system",
        kill_switch=switch,
    )
    runbook_start(actor=Actor.system("tests"), incident=incident, runbook=runbook)
    execution = incident_runs(incident=incident)[0].executions.all()[0]
    report = Report.objects.create(
        kind="portfolio", title="Matrix", requested_by_name="tests", parameters={}
    )
    by_name = {
        "number": incident.number,
        "execution_id": execution.pk,
        "key": switch.key,
        "version": "1.0",
        "code": "GOVERN 1.1",
        "username": admin_user.username,
        "evidence_id": evidence.pk,
        "version_number": policy.number,
        "decision_id": decision.decision_id,
        "fmt": "csv",
        "public_id": report.public_id,
        "sequence": 1,
    }
    values = {
        SlugConverter: system.slug,
        UUIDConverter: str(token.public_id),
        StringConverter: admin_user.username,
        IntConverter: 999_999,
    }
    surprises = []
    csp_issues: list[str] = []
    # Signing out ends the session the other requests use, so it goes last.
    for name, method, pattern in sorted(discovered(), key=lambda d: d[0] == "accounts:logout"):
        kwargs = {
            arg: by_name[arg] if arg in by_name else values[type(conv)]
            for arg, conv in pattern.pattern.converters.items()
        }
        path = reverse(name, kwargs=kwargs)
        for principal, client in principals.items():
            response = client.generic(method, path, data="{}", content_type="application/json")
            if principal in (ADMIN, ANON):
                csp_issues.extend(csp_problems(f"{method} {path}", response))
            allowed = not denied(response)
            expected = principal in EXPECTED[(name, method)]
            if allowed != expected:
                verdict = "allow" if expected else "deny"
                surprises.append(
                    f"{principal} {method} {path}: {response.status_code} ({verdict}?)"
                )
    assert surprises == [], "\n".join(surprises)
    # Every page and API answer carries the CSP, and no page has inline script or style.
    assert csp_issues == [], "\n".join(csp_issues)
