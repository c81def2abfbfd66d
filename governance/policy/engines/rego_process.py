"""The embedded engine's worker process, and the compiled-policy wrapper both sides use.

Run as a script (``python rego_process.py``) it is one evaluation process of the embedded
engine: no Django, no governance package import (it starts in a fraction of a second), and a
loop of one JSON line in, one JSON line out. The web process kills it when an evaluation
overruns its timeout or its memory budget, which is what makes the timeout stop the
evaluation and not only the wait (engines/embedded.py). No rlimit: regopy's allocator reserves
far more address space than it uses, so the web process watches the resident size instead.

Request: ``{"hash", "query", "input"}`` plus ``"modules"`` and ``"data"`` when this process
has not compiled that version yet (``"compile_only": true`` compiles and answers ``""``).
Answer: ``["ok", RAW_OUTPUT]``, ``["error", MESSAGE]`` or ``["need", null]`` (send the
modules: this process does not have that version).
"""

import json
import sys
from typing import Any

from regopy import Input, Interpreter
from regopy.rego_shared import RegoError, rego_get_error

CACHE_SIZE = 4  # versions kept per process: the active one, a shadow, and recent ones


class RegoFailure(Exception):
    """The policy does not compile, failed, or gave no decision."""


def _first_lines(text: str, limit: int = 600) -> str:
    return " ".join(text.strip().splitlines()[:6])[:limit]


class CompiledPolicy:
    def __init__(self, modules: dict[str, str], data: dict[str, Any], query: str) -> None:
        self.interpreter = Interpreter()
        try:
            for name, source in sorted(modules.items()):
                self.interpreter.add_module(name, source)
            self.interpreter.add_data(data)
            self.bundle = self.interpreter.build(query)
        except RegoError as exc:
            raise RegoFailure(f"The policy does not compile: {_first_lines(str(exc))}") from None
        if not self.bundle.ok():
            detail = _first_lines(rego_get_error(self.interpreter._impl))
            raise RegoFailure(f"The policy does not compile: {detail}")

    def run_raw(self, document: dict[str, Any]) -> str:
        """The engine's answer as JSON text (parsed by the caller, once)."""
        self.interpreter.set_input(Input(document))
        output = self.interpreter.query_bundle(self.bundle)
        # str() of a failed output can crash regopy 1.5.2: ask ok() first.
        if not output.ok():
            raise RegoFailure(
                f"Evaluation failed: {_first_lines(rego_get_error(self.interpreter._impl))}"
            )
        raw = str(output)
        if raw == "undefined":
            raise RegoFailure("The policy gave no decision for this input (undefined).")
        return raw


def expression_value(raw: str) -> Any:
    try:
        return json.loads(raw)["expressions"][0]
    except (ValueError, KeyError, IndexError):
        raise RegoFailure(f"The engine's answer is not JSON: {raw[:200]!r}") from None


def _answer(request: dict[str, Any], cache: dict[tuple[str, str], CompiledPolicy]) -> list[Any]:
    key = (request["hash"], request["query"])
    compiled = cache.get(key)
    if compiled is None:
        if "modules" not in request:
            return ["need", None]
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        compiled = cache[key] = CompiledPolicy(request["modules"], request["data"], key[1])
    if request.get("compile_only"):  # a fresh process warming up with the version in use
        return ["ok", ""]
    return ["ok", compiled.run_raw(request["input"])]


def main() -> None:
    import os

    # The protocol gets a descriptor of its own; whatever the native library prints goes to
    # stderr instead of corrupting the answers.
    write = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    cache: dict[tuple[str, str], CompiledPolicy] = {}
    read = sys.stdin.buffer
    while line := read.readline():
        try:
            answer = _answer(json.loads(line), cache)
        except RegoFailure as exc:
            answer = ["error", str(exc)]
        except Exception as exc:  # a bad request: say so, keep serving
            answer = ["error", f"{type(exc).__name__}: {exc}"[:600]]
        write.write(json.dumps(answer).encode() + b"\n")
        write.flush()


if __name__ == "__main__":
    main()
