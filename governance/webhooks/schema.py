"""Tells drf-spectacular how Standard Webhooks signatures authenticate (policy checks)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StandardWebhooksScheme(OpenApiAuthenticationExtension):
    target_class = "governance.webhooks.authentication.StandardWebhooksAuthentication"
    name = "standardWebhooks"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "webhook-signature",
            "description": "Standard Webhooks: webhook-id, webhook-timestamp and "
            "webhook-signature (v1,<base64 HMAC-SHA256 of id.timestamp.body>) signed with "
            "POLICY_CHECK_WEBHOOK_SECRET; each webhook-id is accepted once.",
        }
