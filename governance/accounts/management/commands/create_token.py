"""manage.py create_token --user U --scopes S [S ...] --name N: an API token without the UI.

The token is created through the service (audited, as the named user, who must be allowed to
manage tokens), and counts as that person wherever two people are required. The secret is
printed once, alone on standard output, so `export GOV_TOKEN=$(manage.py create_token ...)`
works; nothing else can show it again.
"""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.accounts.models import User
from governance.accounts.permissions import TOKEN_SCOPES, Perm, has_perm
from governance.accounts.services import api_token_create
from governance.core.actor import Actor


class Command(BaseCommand):
    help = "Create an API token for a user (audited); prints the secret once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True, help="the person the token acts for")
        parser.add_argument(
            "--scopes",
            required=True,
            nargs="+",
            metavar="SCOPE",
            help=f"scopes, space- or comma-separated: {', '.join(sorted(TOKEN_SCOPES))}",
        )
        parser.add_argument("--name", required=True, help="what uses it, e.g. ci-deploy")
        parser.add_argument("--description", default="")
        parser.add_argument("--expires-days", type=int, help="expire after this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['user']!r}")
        if not has_perm(user, Perm.TOKENS_MANAGE):
            raise CommandError(
                f"{user.username} ({user.get_role_display()}) may not create API tokens; "
                "name an admin with --user"
            )
        scopes = [s.strip() for item in options["scopes"] for s in item.split(",") if s.strip()]
        days = options["expires_days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, secret = api_token_create(
                actor=Actor.for_user(user, user_agent="manage.py create_token"),
                name=options["name"],
                scopes=scopes,
                description=options["description"],
                expires_at=expires_at,
            )
        except ValidationError as exc:
            messages = (
                [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]
                if hasattr(exc, "error_dict")
                else exc.messages
            )
            raise CommandError("; ".join(messages)) from None
        self.stderr.write(
            f"created token {token.name} ({token.prefix}…) for {user.username} with "
            f"{', '.join(token.scopes)}; the secret below is shown only this once"
        )
        self.stdout.write(secret)
