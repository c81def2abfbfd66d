"""Reads of users and API tokens."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from governance.accounts.models import ApiToken, User
from governance.accounts.permissions import Perm, has_perm


def api_token_list(*, principal: Any) -> QuerySet[ApiToken]:
    if not has_perm(principal, Perm.TOKENS_MANAGE):
        return ApiToken.objects.none()
    return ApiToken.objects.select_related("created_by", "revoked_by").order_by(
        "revoked_at", "-created_at"
    )


def api_token_get(*, principal: Any, public_id: Any) -> ApiToken:
    return get_object_or_404(api_token_list(principal=principal), public_id=public_id)


def user_list(*, principal: Any) -> QuerySet[User]:
    if not has_perm(principal, Perm.USERS_MANAGE):
        return User.objects.none()
    return User.objects.order_by("username")


def user_get(*, principal: Any, username: str) -> User:
    return get_object_or_404(user_list(principal=principal), username=username)
