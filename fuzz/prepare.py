"""The database `make fuzz` serves: migrated, catalog, policies and demo data loaded, then one
API token per scope and a signed-in admin session, printed as JSON.

Run in the fuzz server's environment (same DATABASE_URL); one process, so Django starts once.
"""

import io
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings.base")

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402

from governance.accounts.models import Role, User  # noqa: E402
from governance.accounts.permissions import TOKEN_SCOPES  # noqa: E402
from governance.accounts.services import api_token_create  # noqa: E402
from governance.core.actor import Actor  # noqa: E402


def main() -> None:
    quiet = io.StringIO()  # the commands' progress is noise here
    for command, *args in (
        ("migrate", "--noinput"),
        ("load_catalog",),
        ("load_policies",),
        ("seed_demo",),
    ):
        call_command(command, *args, stdout=quiet)
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        sys.exit("no active admin: run seed_demo first")
    actor = Actor.for_user(admin)
    run = secrets.token_hex(3)  # names are unique; a rerun on the same database adds tokens
    credentials: dict[str, dict[str, dict[str, str]]] = {}
    for scope in sorted(TOKEN_SCOPES):
        _token, secret = api_token_create(actor=actor, name=f"fuzz {scope} {run}", scopes=[scope])
        credentials[f"token:{scope}"] = {"headers": {"Authorization": f"Bearer {secret}"}}
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session.create()
    # An unmasked CSRF secret in both cookie and header passes Django's CSRF check.
    csrf = secrets.token_hex(16)
    credentials[f"session:{admin.username}"] = {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {"sessionid": session.session_key, "csrftoken": csrf},
    }
    json.dump(credentials, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
