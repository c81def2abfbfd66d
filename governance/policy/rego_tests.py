"""The Rego unit test runner: every `test_*` rule in the `*_test.rego` modules, through the
embedded engine. Run in a subprocess (``python -m governance.policy.rego_tests``) so that a
crash inside the engine fails the tests instead of the process that asked."""

import json
import subprocess
import sys
from typing import Any

from governance.policy.sources import DATA_MOUNT, package_of, test_rules

TIMEOUT_SECONDS = 120


def _run_in_process(modules: dict[str, str], data: dict[str, Any]) -> list[dict[str, Any]]:
    from regopy import Interpreter
    from regopy.rego_shared import RegoError, rego_get_error

    interpreter = Interpreter()
    try:
        for name, source in sorted(modules.items()):
            interpreter.add_module(name, source)
        interpreter.add_data({DATA_MOUNT: data})
    except RegoError as exc:
        detail = " ".join(str(exc).splitlines()[:6])[:600]
        return [{"name": "(compile)", "package": "", "passed": False, "error": detail}]
    results = []
    for file_name, source in sorted(modules.items()):
        if not file_name.endswith("_test.rego"):
            continue
        package = package_of(source) or ""
        for rule in test_rules(source):
            output = interpreter.query(f"data.{package}.{rule}")
            if not output.ok():
                error = " ".join(rego_get_error(interpreter._impl).splitlines()[:3])[:300]
                results.append({"name": rule, "package": package, "passed": False, "error": error})
                continue
            passed = str(output) == '{"expressions":[true]}'
            results.append(
                {
                    "name": rule,
                    "package": package,
                    "passed": passed,
                    "error": "" if passed else "undefined or false",
                }
            )
    return results


def run_rego_tests(modules: dict[str, str], data: dict[str, Any]) -> list[dict[str, Any]]:
    """Results per test rule; a crashed or hung engine is one failed result."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "governance.policy.rego_tests"],
            input=json.dumps({"modules": modules, "data": data}),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [{"name": "(runner)", "package": "", "passed": False, "error": "timed out"}]
    if done.returncode != 0:
        error = f"the engine exited with {done.returncode}: {done.stderr.strip()[-300:]}"
        return [{"name": "(runner)", "package": "", "passed": False, "error": error}]
    return json.loads(done.stdout)


if __name__ == "__main__":
    payload = json.load(sys.stdin)
    json.dump(_run_in_process(payload["modules"], payload["data"]), sys.stdout)
