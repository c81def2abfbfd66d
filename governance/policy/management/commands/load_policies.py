"""policies/ as a policy version: idempotent, and activated when no version is active."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.core.actor import Actor
from governance.policy.services import policy_directory_load


class Command(BaseCommand):
    help = "Load policies/ as a policy version (activated if none is active)."

    def handle(self, *args: object, **options: object) -> None:
        try:
            version = policy_directory_load(actor=Actor.system("load_policies"))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        tests = "tests pass" if version.tests_passed else "TESTS FAIL"
        self.stdout.write(f"policy v{version.number} ({version.get_status_display()}), {tests}")
