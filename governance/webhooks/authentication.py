"""Standard Webhooks signatures as a DRF authentication scheme (POST /api/v1/policy/check).

A CI/CD system that cannot hold a Bearer token can sign its request body instead, with the
shared secret POLICY_CHECK_WEBHOOK_SECRET. A verified request acts as a fixed machine principal
that holds the policy.check scope only; each ``webhook-id`` is accepted once (a replay is 409).
"""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions, status

from governance.accounts.permissions import Perm
from governance.webhooks.models import InboundDelivery
from governance.webhooks.signatures import SignatureInvalid, standard_webhooks_verify

logger = logging.getLogger(__name__)

SOURCE = "standard-webhooks"
PRINCIPAL_NAME = "standard-webhooks"


class WebhookReplayed(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This webhook-id was already received; a message is accepted once."
    default_code = "replay"


class WebhookToken:
    """Stands where an ApiToken would: a name, a stable public id, and its scopes."""

    name = PRINCIPAL_NAME
    public_id = uuid.uuid5(uuid.NAMESPACE_URL, "governance:webhook:standard-webhooks")
    scopes = [Perm.POLICY_CHECK]

    def __str__(self) -> str:
        return self.name


class WebhookPrincipal:
    """request.user for a request signed per Standard Webhooks."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = None
    pk = None
    username = f"webhook:{PRINCIPAL_NAME}"

    def __init__(self) -> None:
        self.token = WebhookToken()

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


class StandardWebhooksAuthentication(authentication.BaseAuthentication):
    """Active only when the request carries ``webhook-signature``; otherwise the next scheme
    (Bearer token, session) decides."""

    def authenticate(self, request: Any) -> tuple[WebhookPrincipal, WebhookToken] | None:
        if not request.headers.get("webhook-signature"):
            return None
        try:
            standard_webhooks_verify(
                settings.POLICY_CHECK_WEBHOOK_SECRET, request.headers, request._request.body
            )
        except SignatureInvalid as exc:
            logger.warning(
                "standard webhooks signature refused from %s: %s",
                getattr(request._request, "client_ip", None),
                exc,
            )
            raise exceptions.AuthenticationFailed(f"Invalid webhook signature: {exc}") from None
        msg_id = request.headers["webhook-id"].strip()[:200]
        try:
            with transaction.atomic():
                InboundDelivery.objects.create(
                    source=SOURCE,
                    delivery_id=msg_id,
                    event=request._request.path[:100],
                    processed_at=timezone.now(),
                )
        except IntegrityError:
            raise WebhookReplayed(
                f"webhook-id {msg_id!r} was already received; a message is accepted once."
            ) from None
        principal = WebhookPrincipal()
        return principal, principal.token

    def authenticate_header(self, request: Any) -> str:
        return 'Webhook-Signature realm="api"'
