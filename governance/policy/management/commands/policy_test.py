"""Run the Rego unit tests in policies/ through the embedded engine; exit 1 if any fails."""

from django.core.management.base import BaseCommand, CommandError

from governance.policy.rego_tests import run_rego_tests
from governance.policy.sources import read_policy_directory


class Command(BaseCommand):
    help = "Run the *_test.rego unit tests of policies/ (rules named test_...)."

    def handle(self, *args: object, **options: object) -> None:
        modules, data = read_policy_directory()
        results = run_rego_tests(modules, data)
        for r in results:
            mark = "PASS" if r["passed"] else "FAIL"
            self.stdout.write(f"{mark} {r['package']}.{r['name']} {r['error']}".rstrip())
        failed = [r for r in results if not r["passed"]]
        if not results:
            raise CommandError("No Rego tests found in policies/*_test.rego")
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} Rego tests failed")
        self.stdout.write(f"{len(results)} passed, 0 failed")
