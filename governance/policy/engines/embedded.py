"""In-process Rego with regopy: each policy version compiled once per thread and reused.

An interpreter is not thread-safe, so each worker thread keeps its own, keyed by the version's
content hash; the cache is per process (built lazily, so gunicorn's forked workers never share
one). Evaluation runs on a small thread pool so a runaway policy hits the timeout instead of
holding the request.
"""

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from regopy import Input, Interpreter
from regopy.rego_shared import RegoError, rego_get_error

from governance.policy.engines.base import (
    EngineError,
    EngineResult,
    EngineTimeout,
    result_from_decision,
)
from governance.policy.sources import DATA_MOUNT, DECISION_PATH, PolicySnapshot

_QUERY = "data." + DECISION_PATH.replace("/", ".")
_CACHE_SIZE = 4  # versions kept per thread: the active one, a shadow, and recent ones


class _Compiled:
    def __init__(self, policy: PolicySnapshot, query: str) -> None:
        self.interpreter = Interpreter()
        try:
            for name, source in sorted(policy.modules.items()):
                self.interpreter.add_module(name, source)
            self.interpreter.add_data({DATA_MOUNT: policy.data})
            self.bundle = self.interpreter.build(query)
        except RegoError as exc:
            raise EngineError(f"The policy does not compile: {_first_lines(str(exc))}") from None
        if not self.bundle.ok():
            detail = _first_lines(rego_get_error(self.interpreter._impl))
            raise EngineError(f"The policy does not compile: {detail}")

    def run(self, document: dict[str, Any]) -> Any:
        self.interpreter.set_input(Input(document))
        output = self.interpreter.query_bundle(self.bundle)
        # str() of a failed output can crash regopy 1.5.2: ask ok() first.
        if not output.ok():
            raise EngineError(
                f"Evaluation failed: {_first_lines(rego_get_error(self.interpreter._impl))}"
            )
        raw = str(output)
        if raw == "undefined":
            raise EngineError("The policy gave no decision for this input (undefined).")
        try:
            return json.loads(raw)["expressions"][0]
        except (ValueError, KeyError, IndexError):
            raise EngineError(f"The engine's answer is not JSON: {raw[:200]!r}") from None


def _first_lines(text: str, limit: int = 600) -> str:
    return " ".join(text.strip().splitlines()[:6])[:limit]


_local = threading.local()


def _compiled(policy: PolicySnapshot, query: str) -> _Compiled:
    cache: dict[tuple[str, str], _Compiled] = getattr(_local, "cache", None) or {}
    _local.cache = cache
    key = (policy.content_hash, query)
    if key not in cache:
        if len(cache) >= _CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[key] = _Compiled(policy, query)
    return cache[key]


def compile_policy(policy: PolicySnapshot) -> None:
    """Raise EngineError with the compiler's message when ``policy`` does not compile."""
    _compiled(policy, _QUERY)


def evaluate_query(policy: PolicySnapshot, query: str, document: dict[str, Any]) -> Any:
    """Any query's value (in this thread); used by the decision path and by tests."""
    return _compiled(policy, query).run(document)


class EmbeddedEngine:
    name = "embedded"

    def __init__(self, timeout_seconds: float, workers: int = 4) -> None:
        self.timeout = timeout_seconds
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid: int | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        # A pool made before a fork has no threads in the child: make one per process.
        if self._pool is None or self._pool_pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pool_pid != os.getpid():
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="rego")
                    self._pool_pid = os.getpid()
        return self._pool

    def evaluate(self, policy: PolicySnapshot, document: dict[str, Any]) -> EngineResult:
        future = self._executor().submit(evaluate_query, policy, _QUERY, document)
        try:
            value = future.result(timeout=self.timeout)
        except FutureTimeout:
            raise EngineTimeout(
                f"The embedded engine did not decide within {self.timeout * 1000:.0f} ms."
            ) from None
        return result_from_decision(value)
