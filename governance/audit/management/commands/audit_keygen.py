"""manage.py audit_keygen --name NAME: a new Ed25519 key for signing audit checkpoints."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit.signing import NoteError, generate_signing_key


class Command(BaseCommand):
    help = (
        "Print a new signing key (for AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE) on standard "
        "output and its verifier key (what auditors trust) on standard error. Nothing is stored."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--name",
            required=True,
            help="the key name, a schema-less URL such as governance.example.com/audit-2027",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = generate_signing_key(options["name"])
        except NoteError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(key.skey)
        self.stderr.write(f"verifier key: {key.verifier.vkey}")
