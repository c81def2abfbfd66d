"""manage.py seed_demo: idempotent demo data (a user per role, a few AI systems)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from governance.core.actor import Actor
from governance.core.demo import DEMO_USERS, demo_seed
from governance.settings.env import env_str

DEFAULT_DEMO_PASSWORD = "governance-demo"  # noqa: S105 - demo only; refused outside DEBUG


class Command(BaseCommand):
    help = "Create demo users (one per role) and AI systems. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even when DEBUG is off (the demo users have a known password)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "refusing to create demo users with a known password while DEBUG is off"
            )
        password = env_str("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
        result = demo_seed(actor=Actor.system("seed_demo"), password=password)
        existing = [u for u, *_ in DEMO_USERS if u not in result.users_created]
        self.stdout.write(
            f"demo data: {len(result.users_created)} users and "
            f"{len(result.systems_created)} AI systems created"
            + (
                f"; {len(existing)} users already existed and were left as they were"
                if existing
                else ""
            )
        )
        # Say what this run did: an existing user's password was not touched.
        self.stdout.write("Demo logins:")
        for username, role, _first, _last in DEMO_USERS:
            if username in result.users_created:
                note = f"password {password} (set now)"
            else:
                note = "existing user: password unchanged (not reset by seed_demo)"
            self.stdout.write(f"  {username:<10} {role.label:<20} {note}")
