"""The one permission mechanism: roles and token scopes grant named permissions.

Every API view names ``required_permission`` (or a per-method dict) and every web view does the
same through ``PermissionRequiredMixin``; selectors scope querysets with ``has_perm``. A view that
names nothing is closed.
"""

from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.permissions import BasePermission

from governance.accounts.models import Role


class Perm:
    DASHBOARD_VIEW = "dashboard.view"
    INVENTORY_VIEW = "inventory.view"
    INVENTORY_MANAGE = "inventory.manage"
    CONTROLS_VIEW = "controls.view"
    CONTROLS_MANAGE = "controls.manage"
    CONTROLS_CONFIGURE = "controls.configure"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    AUDIT_PROOFS = "audit.proofs"
    TOKENS_MANAGE = "tokens.manage"
    USERS_MANAGE = "users.manage"
    ACCOUNT_VIEW = "account.view"
    POLICY_VIEW = "policy.view"
    POLICY_MANAGE = "policy.manage"
    POLICY_CHECK = "policy.check"
    DECISIONS_VIEW = "decisions.view"
    INCIDENTS_VIEW = "incidents.view"
    INCIDENTS_MANAGE = "incidents.manage"
    SEVERITY_CONFIGURE = "severity.configure"
    KILLSWITCHES_READ = "killswitches.read"
    KILLSWITCHES_FLIP = "killswitches.flip"
    KILLSWITCHES_MANAGE = "killswitches.manage"
    REPORTS_GENERATE = "reports.generate"
    REPORTS_DOWNLOAD = "reports.download"
    RELEASES_VIEW = "releases.view"
    RELEASES_REQUEST = "releases.request"
    RELEASES_DEPLOY = "releases.deploy"
    RELEASES_APPROVE = "releases.approve"
    RELEASES_CONFIGURE = "releases.configure"
    WEBHOOKS_MANAGE = "webhooks.manage"
    INTEGRATIONS_MANAGE = "integrations.manage"


_READ = {
    Perm.DASHBOARD_VIEW,
    Perm.INVENTORY_VIEW,
    Perm.CONTROLS_VIEW,
    Perm.ACCOUNT_VIEW,
    Perm.POLICY_VIEW,
    Perm.INCIDENTS_VIEW,
    Perm.KILLSWITCHES_READ,
    Perm.RELEASES_VIEW,
}
# Who takes part in releases may ask for decisions and read the decision log.
_RELEASE = {Perm.POLICY_CHECK, Perm.DECISIONS_VIEW}
# Compliance PDFs print the audit log and the decision log: for those who may read both.
_REPORTS = {Perm.REPORTS_GENERATE, Perm.REPORTS_DOWNLOAD}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset(_READ),
    Role.REQUESTER: frozenset(
        _READ
        | _RELEASE
        | {
            Perm.INVENTORY_MANAGE,
            Perm.CONTROLS_MANAGE,
            Perm.RELEASES_REQUEST,
            Perm.RELEASES_DEPLOY,
        }
    ),
    # Minutes matter: approvers may engage (and release) kill switches without an approval.
    Role.APPROVER: frozenset(
        _READ | _RELEASE | {Perm.CONTROLS_MANAGE, Perm.RELEASES_APPROVE, Perm.KILLSWITCHES_FLIP}
    ),
    Role.INCIDENT_COMMANDER: frozenset(
        _READ
        | {
            Perm.DECISIONS_VIEW,
            Perm.INCIDENTS_MANAGE,
            Perm.KILLSWITCHES_FLIP,
            Perm.KILLSWITCHES_MANAGE,
        }
    ),
    # Merkle proofs and the checkpoint list are for auditors (and their tools' tokens) only.
    Role.AUDITOR: frozenset(
        _READ
        | _REPORTS
        | {Perm.AUDIT_VIEW, Perm.AUDIT_EXPORT, Perm.AUDIT_PROOFS, Perm.DECISIONS_VIEW}
    ),
    Role.ADMIN: frozenset(
        _READ
        | _RELEASE
        | _REPORTS
        | {
            Perm.POLICY_MANAGE,
            Perm.INVENTORY_MANAGE,
            Perm.CONTROLS_MANAGE,
            Perm.CONTROLS_CONFIGURE,
            Perm.AUDIT_VIEW,
            Perm.AUDIT_EXPORT,
            Perm.TOKENS_MANAGE,
            Perm.USERS_MANAGE,
            Perm.INCIDENTS_MANAGE,
            Perm.SEVERITY_CONFIGURE,
            Perm.KILLSWITCHES_FLIP,
            Perm.KILLSWITCHES_MANAGE,
            Perm.RELEASES_REQUEST,
            Perm.RELEASES_DEPLOY,
            Perm.RELEASES_APPROVE,
            Perm.RELEASES_CONFIGURE,
            Perm.WEBHOOKS_MANAGE,
            Perm.INTEGRATIONS_MANAGE,
        }
    ),
}

# What a machine token may be granted. Managing tokens is for people only.
TOKEN_SCOPES: dict[str, str] = {
    Perm.INVENTORY_VIEW: "Read AI systems",
    Perm.INVENTORY_MANAGE: "Register and change AI systems, versions and datasets",
    Perm.CONTROLS_VIEW: "Read the control catalog, control status and coverage",
    Perm.CONTROLS_MANAGE: "Change control status and add evidence",
    Perm.AUDIT_VIEW: "Read audit events",
    Perm.AUDIT_EXPORT: "Export the audit log",
    Perm.AUDIT_PROOFS: "Read signed audit checkpoints and Merkle proofs (auditors, witnesses)",
    Perm.ACCOUNT_VIEW: "Read its own identity (whoami)",
    Perm.POLICY_CHECK: "Ask for policy decisions (CI/CD, Kubernetes admission)",
    Perm.POLICY_VIEW: "Read policy versions and their sources",
    Perm.DECISIONS_VIEW: "Read the policy decision log",
    Perm.INCIDENTS_VIEW: "Read incidents, their timelines and runbooks",
    Perm.KILLSWITCHES_READ: "Read kill switches, runtime controls, their event stream and OFREP "
    "(AI services)",
    Perm.KILLSWITCHES_FLIP: "Engage and release kill switches and set runtime controls, with a "
    "reason",
    Perm.REPORTS_GENERATE: "Request compliance PDF reports and read their status",
    Perm.REPORTS_DOWNLOAD: "Download finished compliance PDF reports",
    Perm.RELEASES_VIEW: "Read release requests and their approvals",
    Perm.RELEASES_DEPLOY: "Mark approved releases deployed and roll them back (CI/CD)",
}
# Requesting and approving releases are for people only: four eyes need two named persons.


def has_perm(principal: Any, perm: str) -> bool:
    """Whether a user (by role) or a machine (by token scope) holds ``perm``."""
    if principal is None or not getattr(principal, "is_authenticated", False):
        return False
    token = getattr(principal, "token", None)
    if token is not None:
        return perm in token.scopes
    if not principal.is_active:
        return False
    return perm in ROLE_PERMISSIONS.get(principal.role, frozenset())


def required_permission_for(view: Any, method: str) -> str | None:
    required = getattr(view, "required_permission", None)
    if isinstance(required, dict):
        return required.get(method.upper())
    return required


class HasPermission(BasePermission):
    """DRF permission class: the view's required permission, for the request's method."""

    message = "Your role or token scope does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 Method Not Allowed; nothing to protect
        perm = required_permission_for(view, request.method)
        if perm is None:
            return False
        return has_perm(request.user, perm)


class PublicApi(BasePermission):
    """For the few API endpoints that anyone may call (schema, docs, health)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return True


class PermissionRequiredMixin(AccessMixin):
    """Web views: anonymous users go to the login page; signed-in users without it get 403."""

    required_permission: str | dict[str, str] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.required_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must set required_permission.")
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        perm = required_permission_for(self, request.method)
        if perm is None or not has_perm(request.user, perm):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)
