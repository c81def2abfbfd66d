"""The sections of the web UI, shown to those whose role allows each one."""

from dataclasses import dataclass

from governance.accounts.permissions import Perm


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str
    permission: str
    active_prefix: str


SECTIONS = (
    Section("Dashboard", "core:dashboard", Perm.DASHBOARD_VIEW, "/dashboard"),
    Section("Portfolio", "controls:portfolio", Perm.CONTROLS_VIEW, "/portfolio"),
    Section("AI systems", "inventory:system-list", Perm.INVENTORY_VIEW, "/systems"),
    Section("Controls", "controls:catalog", Perm.CONTROLS_VIEW, "/controls"),
    Section("Policy", "policy:overview", Perm.POLICY_VIEW, "/policy"),
    Section("Incidents", "incidents:board", Perm.INCIDENTS_VIEW, "/incidents"),
    Section(
        "Kill switches", "incidents:kill-switch-panel", Perm.KILLSWITCHES_READ, "/kill-switches"
    ),
    Section("Approvals", "releases:queue", Perm.RELEASES_VIEW, "/releases"),
    Section("Audit log", "audit:explorer", Perm.AUDIT_VIEW, "/audit"),
    Section("Reports", "reports:list", Perm.REPORTS_GENERATE, "/reports"),
    Section("Users", "accounts:user-list", Perm.USERS_MANAGE, "/settings/users"),
    Section("API tokens", "accounts:token-list", Perm.TOKENS_MANAGE, "/settings/tokens"),
    Section("Webhooks", "outbound:subscriptions", Perm.WEBHOOKS_MANAGE, "/settings/webhooks"),
    Section(
        "Integrations", "integrations:list", Perm.INTEGRATIONS_MANAGE, "/settings/integrations"
    ),
    Section("Gates", "gates:environments", Perm.WEBHOOKS_MANAGE, "/settings/environments"),
)
