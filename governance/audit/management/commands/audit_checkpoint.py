"""manage.py audit_checkpoint [--out FILE]: sign a checkpoint of the audit log now."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.audit.checkpoints import audit_checkpoint_create
from governance.audit.keys import SigningDisabled
from governance.audit.models import CheckpointTrigger
from governance.audit.tree import TreeIntegrityError


class Command(BaseCommand):
    help = (
        "Grow the Merkle tree over every committed audit event and sign a C2SP checkpoint of it. "
        "Prints the signed note (or writes it to --out; an RFC 3161 token, when the checkpoint "
        "has one, goes beside it as FILE.tsr)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", type=Path, help="file to write the signed note to")
        parser.add_argument("--label", default="manage.py audit_checkpoint")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoint = audit_checkpoint_create(
                trigger=CheckpointTrigger.MANUAL, label=options["label"]
            )
        except SigningDisabled as exc:
            raise CommandError(str(exc)) from None
        except TreeIntegrityError as exc:
            raise CommandError(f"refusing to sign: the audit chain is broken at {exc}") from None
        path: Path | None = options["out"]
        if path is None:
            sys.stdout.write(checkpoint.note)
        else:
            path.write_text(checkpoint.note, encoding="utf-8")
            if checkpoint.timestamp_token:
                path.with_name(path.name + ".tsr").write_bytes(bytes(checkpoint.timestamp_token))
        stamped = (
            f", time-stamped {checkpoint.timestamped_at:%Y-%m-%dT%H:%M:%SZ}"
            if checkpoint.timestamped_at
            else (
                f", NOT time-stamped: {checkpoint.timestamp_error}"
                if checkpoint.timestamp_error
                else ""
            )
        )
        self.stderr.write(
            f"checkpoint of {checkpoint.tree_size} events signed by {checkpoint.key_name} "
            f"({checkpoint.key_id}){stamped}"
        )
