"""Who is acting: the "who" of every audit event, passed explicitly to every service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from django.http import HttpRequest

    from governance.accounts.models import ApiToken, User

ActorKind = Literal["user", "token", "system"]


@dataclass(frozen=True)
class Actor:
    """A person, a machine holding an API token, or the system itself (commands, beat tasks)."""

    kind: ActorKind
    id: str
    name: str
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""
    user: User | None = field(default=None, compare=False, repr=False)
    token: ApiToken | None = field(default=None, compare=False, repr=False)

    @classmethod
    def for_user(cls, user: User, **request_facts: Any) -> Actor:
        return cls(
            kind="user", id=str(user.pk), name=user.get_username(), user=user, **request_facts
        )

    @classmethod
    def for_token(cls, token: ApiToken, **request_facts: Any) -> Actor:
        return cls(
            kind="token", id=str(token.public_id), name=token.name, token=token, **request_facts
        )

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(kind="system", id=name, name=name)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        facts = {
            "ip": getattr(request, "client_ip", None),
            "user_agent": request.headers.get("User-Agent", "")[:512],
            "request_id": getattr(request, "request_id", ""),
        }
        token = getattr(request.user, "token", None)
        if token is not None:
            return cls.for_token(token, **facts)
        if request.user.is_authenticated:
            return cls.for_user(request.user, **facts)
        return cls(kind="user", id="", name="anonymous", **facts)

    @property
    def person_key(self) -> str:
        """The person answerable for this actor, for two-person rules: a token counts as the
        user who created it, so a token and its creator are one person, never two."""
        if self.kind == "token" and self.token is not None:
            return f"user:{self.token.created_by_id}"
        return f"{self.kind}:{self.id}"

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"
