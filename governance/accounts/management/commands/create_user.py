"""manage.py create_user USERNAME --role ROLE: a person's account, created through the service
(so it is audited; `createsuperuser` would bypass both the audit log and the roles)."""

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.accounts.models import Role
from governance.accounts.services import user_create
from governance.core.actor import Actor


class Command(BaseCommand):
    help = "Create a user with a role. The password is prompted for, or read from --password-env."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env", metavar="VAR", help="read the password from this environment variable"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"environment variable {options['password_env']} is empty")
        else:
            if not sys.stdin.isatty():
                # getpass would fall back to reading stdin or fail oddly without a terminal.
                raise CommandError(
                    "no terminal to prompt for the password: put it in an environment variable "
                    "and pass its name with --password-env VAR "
                    "(e.g. PW=... manage.py create_user alice --role admin --password-env PW)"
                )
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            user = user_create(
                actor=Actor.system("create_user"),
                username=options["username"],
                role=options["role"],
                email=options["email"],
                password=password,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(f"created {user.username} ({user.get_role_display()})")
