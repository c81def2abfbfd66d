"""Every write to users and API tokens, each with its audit event in the same transaction."""

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.accounts.models import ApiToken, Role, User
from governance.accounts.permissions import TOKEN_SCOPES
from governance.audit.services import Target, audit_record
from governance.core.actor import Actor
from governance.core.errors import Conflict

TOKEN_PREFIX = "gov_"  # noqa: S105 - a public marker, not a secret


def _hash_secret(secret: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no password stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "active": user.is_active,
    }


def user_create(
    *,
    actor: Actor,
    username: str,
    role: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    user = User(
        username=username, role=role, email=email, first_name=first_name, last_name=last_name
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save()
        audit_record(
            actor=actor,
            action="accounts.user.created",
            target=Target.of(user, id_field="username"),
            after=_user_snapshot(user),
        )
    return user


def user_set_role(*, actor: Actor, user: User, role: str, reason: str) -> User:
    if role not in Role.values:
        raise ValidationError({"role": [f"Unknown role {role!r}."]})
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required to change a role."]})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        before = _user_snapshot(user)
        user.role = role
        user.save(update_fields=["role"])
        audit_record(
            actor=actor,
            action="accounts.user.role_changed",
            target=Target.of(user, id_field="username"),
            before=before,
            after=_user_snapshot(user),
            reason=reason,
        )
    return user


def _token_snapshot(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": token.scopes,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def api_token_create(
    *,
    actor: Actor,
    name: str,
    scopes: list[str],
    description: str = "",
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a machine token. Returns the token and its secret, which is never stored."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown:
        errors["scopes"] = [f"Unknown scope(s): {', '.join(unknown)}."]
    if not scopes:
        errors["scopes"] = ["Choose at least one scope."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationError(errors)
    if actor.user is None:
        raise ValidationError("Only a signed-in person can create API tokens.")
    body = secrets.token_urlsafe(32)
    secret = f"{TOKEN_PREFIX}{body}"
    token = ApiToken(
        name=name.strip(),
        description=description,
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        secret_hash=_hash_secret(secret),
        scopes=sorted(set(scopes)),
        created_by=actor.user,
        expires_at=expires_at,
    )
    token.full_clean(exclude=["created_by"])
    with transaction.atomic():
        token.save()
        audit_record(
            actor=actor,
            action="accounts.token.created",
            target=Target.of(token, id_field="public_id"),
            after=_token_snapshot(token),
        )
    return token, secret


def api_token_revoke(*, actor: Actor, token: ApiToken, reason: str) -> ApiToken:
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required to revoke a token."]})
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.is_revoked:
            raise Conflict(f"Token {token.name!r} is already revoked.")
        before = _token_snapshot(token)
        token.revoked_at = timezone.now()
        token.revoked_by = actor.user
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action="accounts.token.revoked",
            target=Target.of(token, id_field="public_id"),
            before=before,
            after=_token_snapshot(token),
            reason=reason,
        )
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token for this secret, or None (unknown, revoked or expired)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.filter(secret_hash=_hash_secret(secret), revoked_at__isnull=True)
        .only("id", "public_id", "name", "scopes", "expires_at", "last_used_at")
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # Bounded write: at most one per token per minute, so busy machines don't hammer the row.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def login_record(*, actor: Actor, user: User | None, username: str, succeeded: bool) -> None:
    """Sign-ins and failed attempts are security events auditors ask for."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="accounts.login.succeeded" if succeeded else "accounts.login.failed",
            target=Target.of(user, id_field="username")
            if user
            else Target("accounts.user", username[:150]),
        )


def login_lockout_record(
    *, actor: Actor, user: User | None, username: str, failures: int, cooloff_seconds: int
) -> None:
    """One event for a series of failed sign-ins that locked an IP address or username out:
    the failures are counted here instead of each writing its own event."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="accounts.login.locked_out",
            target=Target.of(user, id_field="username")
            if user
            else Target("accounts.user", username[:150]),
            after={
                "username": username[:150],
                "ip": actor.ip,
                "failures": failures,
                "cooloff_seconds": cooloff_seconds,
            },
        )
