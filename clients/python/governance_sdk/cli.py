"""govctl: gate a deployment from any pipeline, read runtime controls.

    govctl check --system S --version V --env production     # exit 1 with the reasons on deny
    govctl register --system S --version V PATH              # register V from its artifact
    govctl flag KEY [--system S]                             # print a flag's evaluation

The server and token come from --url / --token or GOVERNANCE_URL / GOVERNANCE_TOKEN.
check exits 0 allowed, 1 denied, 2 no decision (unreachable, bad token, bad input): fail closed.
register exits 0 registered, 1 refused (the problem's detail is printed), 2 not sent or no
answer (bad path, unreachable, bad token), 3 the system already has that version.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from governance_sdk.http import GovernanceError, request_json
from governance_sdk.policy import policy_check
from governance_sdk.register import ArtifactPathError, version_register

# register's exit codes
REGISTERED, REFUSED, NOT_SENT, EXISTS = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govctl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("GOVERNANCE_URL", ""))
    parser.add_argument("--token", default=os.environ.get("GOVERNANCE_TOKEN", ""))
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="ask the policy engine whether a deployment may go")
    check.add_argument("--system", required=True)
    check.add_argument("--version", required=True)
    check.add_argument("--env", required=True, dest="environment")
    check.add_argument("--requester", default=os.environ.get("GITHUB_ACTOR", "pipeline"))
    check.add_argument("--current-version", default=None)
    check.add_argument("--json", action="store_true", help="print the decision as JSON")
    register = commands.add_parser(
        "register", help="register a model version from its artifact (the server inspects it)"
    )
    register.add_argument("--system", required=True)
    register.add_argument("--version", required=True)
    register.add_argument("--artifact-uri", default="", help="where the artifact is stored")
    register.add_argument("--code-commit", default="", help="the training code's commit SHA")
    register.add_argument("--json", action="store_true", help="print the version as JSON")
    register.add_argument("path", help="a model file, or a model directory (its metadata files)")
    flag = commands.add_parser("flag", help="evaluate one kill switch or runtime control")
    flag.add_argument("key")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.url or not args.token:
        print(
            "govctl: set --url and --token (or GOVERNANCE_URL, GOVERNANCE_TOKEN)", file=sys.stderr
        )
        return 2
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "register":
            return _register(args)
        return _flag(args)
    except GovernanceError as exc:
        print(f"govctl: no decision: {exc}", file=sys.stderr)
        return 2


def _check(args: argparse.Namespace) -> int:
    result = policy_check(
        args.url,
        token=args.token,
        system=args.system,
        version=args.version,
        environment=args.environment,
        requester=args.requester,
        current_version=args.current_version,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "allow": result.allow,
                    "decision_id": result.decision_id,
                    "policy_version": result.policy_version,
                    "violations": result.violations,
                }
            )
        )
    elif result.allow:
        print(
            f"allowed: {args.system}@{args.version} to {args.environment} "
            f"(decision {result.decision_id})"
        )
    else:
        print(
            f"denied: {args.system}@{args.version} to {args.environment} "
            f"(decision {result.decision_id})"
        )
        for reason in result.reasons:
            print(f"  - {reason}")
    return 0 if result.allow else 1


def _register(args: argparse.Namespace) -> int:
    try:
        done = version_register(
            args.url,
            token=args.token,
            system=args.system,
            version=args.version,
            path=Path(args.path),
            artifact_uri=args.artifact_uri,
            code_commit_sha=args.code_commit,
        )
    except ArtifactPathError as exc:
        print(f"govctl: nothing sent: {exc}", file=sys.stderr)
        return NOT_SENT
    except GovernanceError as exc:
        return _refused(args, exc)
    version, record = done.version, done.inspection
    if args.json:
        print(json.dumps({"version": version, "inspection": record, "sent": done.sent}))
        return REGISTERED
    print(
        f"registered: {version['system']}@{version['version']} from a {record['format']} "
        f"artifact ({version['framework']}, {version['artifact_format']}, "
        f"sha256 {version['artifact_sha256'][:12]})"
    )
    if len(done.sent) > 1 or Path(args.path).is_dir():
        print(f"  sent {', '.join(done.sent)} (the SHA-256 covers these files only)")
    for finding in record.get("findings", []):
        print(f"  {finding['severity']}: {finding['code']}: {finding['message']}")
    if version.get("missing_metadata"):
        print(f"  incomplete: missing {', '.join(version['missing_metadata'])}")
    return REGISTERED


def _refused(args: argparse.Namespace, exc: GovernanceError) -> int:
    body: Any = exc.body if isinstance(exc.body, dict) else {}
    if exc.status is None or exc.status in (401, 403) or exc.status >= 500:
        print(f"govctl: not registered: {exc}", file=sys.stderr)
        return NOT_SENT
    detail = body.get("detail") or body.get("title") or str(exc)
    print(f"govctl: not registered (HTTP {exc.status}): {detail}", file=sys.stderr)
    fields = _problem_errors(body)
    for name, message in fields:
        print(f"  {name}: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"status": exc.status, "problem": body}))
    exists = exc.status == 409 and any(name == "version" for name, _ in fields)
    return EXISTS if exists else REFUSED


def _problem_errors(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) from a problem's ``errors``: [{"pointer": "#/field", "detail": ...}]."""
    errors = body.get("errors") or []
    if isinstance(errors, dict):  # {"field": ["message", ...]}
        return [
            (k, str(m)) for k, ms in errors.items() for m in (ms if isinstance(ms, list) else [ms])
        ]
    found = []
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict):
            name = str(item.get("pointer", "")).removeprefix("#/") or "request"
            found.append((name, str(item.get("detail", ""))))
    return found


def _flag(args: argparse.Namespace) -> int:
    _, _, body = request_json(
        "POST",
        f"{args.url.rstrip('/')}/ofrep/v1/evaluate/flags/{args.key}",
        token=args.token,
        body={"context": {}},
    )
    print(json.dumps(body, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
