"""Bearer token authentication for machines (Authorization: Bearer gov_...)."""

from typing import Any

from rest_framework import authentication, exceptions

from governance.accounts.models import ApiToken
from governance.accounts.services import api_token_authenticate


class MachinePrincipal:
    """What request.user is for a request made with an API token: the token, acting alone."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    role = None
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = f"token:{token.name}"

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[MachinePrincipal, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        credential = credential.strip()
        if not credential or " " in credential:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        token = api_token_authenticate(secret=credential)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        return MachinePrincipal(token), token

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'
