"""In-process Rego with regopy, evaluated in worker processes that a timeout kills.

Decisions run in a small pool of evaluation processes per web process (rego_process.py), each
keeping its compiled versions. The timeout is real: an evaluation that overruns it has its
process killed (CPU and memory come back at once) and replaced in the background. So does one
whose process grows past POLICY_ENGINE_MEMORY_MB (resident size, checked every 50 ms while
an evaluation runs longer than that), so a policy that allocates without bound fails alone.
When every process is busy for longer than POLICY_ENGINE_WAIT_MS the answer is an
EngineSaturated error (deny, fail closed) at once, instead of a queue behind a runaway policy.
One exception: evaluations of a version activated before the one a waiting decision uses are
stopped (denied, as superseded) and their processes replaced, so a runaway version that was
just rolled back cannot hold the processes its successor needs for the rest of its timeout.

``compile_policy`` and ``evaluate_query`` run in this process (saving a version, Rego unit
tests, benchmarks): an interpreter per thread, as it is not thread-safe.
"""

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from typing import Any

from governance.policy.engines.base import (
    EngineError,
    EngineOverMemory,
    EngineResult,
    EngineTimeout,
    result_from_decision,
)
from governance.policy.engines.rego_process import (
    CACHE_SIZE,
    CompiledPolicy,
    RegoFailure,
    expression_value,
)
from governance.policy.sources import DATA_MOUNT, DECISION_PATH, PolicySnapshot

logger = logging.getLogger(__name__)

_QUERY = "data." + DECISION_PATH.replace("/", ".")
_WORKER_SCRIPT = os.path.join(os.path.dirname(__file__), "rego_process.py")
_STARTUP_SECONDS = 10.0


class EngineSaturated(EngineError):
    """Every evaluation process is busy: deny now rather than queue."""


# --- in this process ------------------------------------------------------------------------

_local = threading.local()


def _compiled(policy: PolicySnapshot, query: str) -> CompiledPolicy:
    cache: dict[tuple[str, str], CompiledPolicy] = getattr(_local, "cache", None) or {}
    _local.cache = cache
    key = (policy.content_hash, query)
    if key not in cache:
        if len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
        try:
            cache[key] = CompiledPolicy(policy.modules, {DATA_MOUNT: policy.data}, query)
        except RegoFailure as exc:
            raise EngineError(str(exc)) from None
    return cache[key]


def compile_policy(policy: PolicySnapshot) -> None:
    """Raise EngineError with the compiler's message when ``policy`` does not compile."""
    _compiled(policy, _QUERY)


def evaluate_query(policy: PolicySnapshot, query: str, document: dict[str, Any]) -> Any:
    """Any query's value, evaluated in this thread; used by tests and benchmarks."""
    try:
        return expression_value(_compiled(policy, query).run_raw(document))
    except RegoFailure as exc:
        raise EngineError(str(exc)) from None


# --- evaluation processes -------------------------------------------------------------------


class _Overrun(Exception):
    pass


class _Died(Exception):
    pass


class _Bloated(Exception):
    pass


_PAGE = os.sysconf("SC_PAGE_SIZE")
_WATCH_SECONDS = 0.05


class _Process:
    """One evaluation process and what it has compiled (mirrored, to send modules once)."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024
        self.popen = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [sys.executable, "-I", _WORKER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        self.fd = self.popen.stdout.fileno()  # type: ignore[union-attr]
        self.known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._pending = b""
        self.running: PolicySnapshot | None = None  # the version it evaluates now
        self.superseded_by: PolicySnapshot | None = None  # why it was stopped, if it was

    def ask(self, request: dict[str, Any], deadline: float) -> list[Any]:
        try:
            self.popen.stdin.write(json.dumps(request).encode() + b"\n")  # type: ignore[union-attr]
        except OSError:
            raise _Died() from None
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Overrun()
            if not poller.poll(min(left, _WATCH_SECONDS) * 1000):
                if self.memory_bytes and self.resident_bytes() > self.memory_bytes:
                    raise _Bloated()
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise _Died()
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return json.loads(line)

    def resident_bytes(self) -> int:
        try:
            with open(f"/proc/{self.popen.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def remember(self, key: tuple[str, str]) -> None:
        self.known[key] = None
        self.known.move_to_end(key)
        while len(self.known) > CACHE_SIZE:
            self.known.popitem(last=False)

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                stream.close()


class _Pool:
    def __init__(self, size: int, memory_mb: int, wait_seconds: float) -> None:
        self.size, self.memory_mb, self.wait = size, memory_mb, wait_seconds
        self._idle: list[_Process] = []
        self._busy: set[_Process] = set()
        self._starting = 0
        self.last_policy: PolicySnapshot | None = None  # what replacements compile first
        self._cond = threading.Condition()
        for _ in range(size):
            self._start_one()

    def _start_one(self) -> None:
        with self._cond:
            self._starting += 1
        threading.Thread(target=self._spawn, name="rego-spawn", daemon=True).start()

    def _spawn(self) -> None:
        process = None
        try:
            process = _Process(self.memory_mb)
            self._warm(process)
        except OSError:
            logger.exception("could not start a policy evaluation process")
        except (_Overrun, _Died):
            process.kill()  # type: ignore[union-attr]
            process = None
            logger.warning("a new policy evaluation process failed to warm up")
        with self._cond:
            self._starting -= 1
            if process is not None:
                self._idle.append(process)
            self._cond.notify()

    def _warm(self, process: _Process) -> None:
        """Compile the version compiled last, so a replacement's first decision is as fast."""
        policy = self.last_policy
        if policy is None:
            return
        key = (policy.content_hash, _QUERY)
        answer = process.ask(
            {
                "hash": key[0],
                "query": key[1],
                "modules": policy.modules,
                "data": {DATA_MOUNT: policy.data},
                "compile_only": True,
            },
            time.monotonic() + _STARTUP_SECONDS,
        )
        if answer[0] == "ok":
            process.remember(key)

    def _acquire(self, policy: PolicySnapshot) -> _Process:
        with self._cond:
            deadline = time.monotonic() + self.wait
            superseded = False
            while not self._idle:
                if not superseded and self._supersede(policy):
                    # Its replacement starts now; this decision waits for it.
                    superseded, deadline = True, time.monotonic() + _STARTUP_SECONDS
                # With none running yet (a cold start, or every one being replaced) wait for
                # one to start; while others are busy, only briefly.
                cold = self._starting and not self._busy
                left = (deadline + _STARTUP_SECONDS if cold else deadline) - time.monotonic()
                if left <= 0:
                    raise EngineSaturated(
                        f"All {self.size} policy evaluation processes are busy: denied at once "
                        "rather than queued."
                    )
                self._cond.wait(left)
            process = self._idle.pop()
            self._busy.add(process)
            process.running = policy
            return process

    def _supersede(self, policy: PolicySnapshot) -> bool:
        """Stop one evaluation of a version activated before ``policy`` (its owner sees the
        process die and denies that decision as superseded). Called holding the lock."""
        for process in self._busy:
            running = process.running
            if running and process.superseded_by is None and running.since < policy.since:
                process.superseded_by = policy
                self.last_policy = policy  # what the replacement compiles first
                process.popen.kill()
                return True
        return False

    def _release(self, process: _Process) -> None:
        with self._cond:  # (an RLock: _replace takes it again)
            if process.superseded_by is not None:  # it answered just before it was stopped
                self._replace(process)
                return
            self._busy.discard(process)
            process.running = None
            self._idle.append(process)
            self._cond.notify()

    def _replace(self, process: _Process) -> None:
        with self._cond:
            self._busy.discard(process)
        threading.Thread(target=process.kill, name="rego-kill", daemon=True).start()
        self._start_one()

    def _compile(self, process: _Process, policy: PolicySnapshot) -> None:
        """Compile ``policy`` in ``process`` on a budget of its own: compiling is paid once per
        process and version, and must not count against (or be killed by) a decision's
        timeout."""
        key = (policy.content_hash, _QUERY)
        try:
            answer = process.ask(
                {
                    "hash": key[0],
                    "query": key[1],
                    "modules": policy.modules,
                    "data": {DATA_MOUNT: policy.data},
                    "compile_only": True,
                },
                time.monotonic() + _STARTUP_SECONDS,
            )
        except (_Overrun, _Died, _Bloated):
            self._replace(process)
            raise EngineError(
                f"Policy v{policy.number} did not compile within {_STARTUP_SECONDS:.0f} s."
            ) from None
        if answer[0] == "error":
            self._release(process)
            raise EngineError(answer[1])
        process.remember(key)
        if self.last_policy is None or self.last_policy.content_hash != policy.content_hash:
            self.last_policy = policy
            threading.Thread(target=self._warm_idle, name="rego-warm", daemon=True).start()

    def _warm_idle(self) -> None:
        """A new version is in use: compile it in the idle processes too, one at a time, so no
        decision pays the compile (on a loaded machine, seconds) in the request."""
        for _ in range(self.size):
            with self._cond:
                cold = [p for p in self._idle if not self._knows_last(p)]
                if not cold:
                    return
                self._idle.remove(cold[0])
                self._busy.add(cold[0])
            try:
                self._warm(cold[0])
            except (_Overrun, _Died, _Bloated):
                self._replace(cold[0])
                continue
            self._release(cold[0])

    def _knows_last(self, process: _Process) -> bool:
        policy = self.last_policy
        return policy is None or (policy.content_hash, _QUERY) in process.known

    def run(self, policy: PolicySnapshot, document: dict[str, Any], timeout: float) -> Any:
        process = self._acquire(policy)
        key = (policy.content_hash, _QUERY)
        if key not in process.known:
            self._compile(process, policy)
        request: dict[str, Any] = {"hash": key[0], "query": key[1], "input": document}
        deadline = time.monotonic() + timeout
        try:
            answer = process.ask(request, deadline)
            if answer[0] == "need":  # the process dropped that version from its cache
                request.update(modules=policy.modules, data={DATA_MOUNT: policy.data})
                answer = process.ask(request, deadline)
        except _Overrun:
            self._replace(process)
            raise EngineTimeout(
                f"The embedded engine did not decide within {timeout * 1000:.0f} ms; "
                "the evaluation was stopped."
            ) from None
        except _Bloated:
            self._replace(process)
            raise EngineOverMemory(
                f"The evaluation used more than {self.memory_mb} MB; it was stopped."
            ) from None
        except _Died:
            self._replace(process)
            newer = process.superseded_by
            if newer is not None:
                raise EngineError(
                    f"Policy v{newer.number} was activated while this evaluation with "
                    f"v{policy.number} ran; it was stopped to make room for v{newer.number}."
                ) from None
            raise EngineError(
                "The policy evaluation process died (memory limit exceeded?)."
            ) from None
        self._release(process)
        if answer[0] == "error":
            raise EngineError(answer[1])
        process.remember(key)
        try:
            return expression_value(answer[1])
        except RegoFailure as exc:
            raise EngineError(str(exc)) from None

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for process in idle:
            process.kill()


class EmbeddedEngine:
    name = "embedded"

    def __init__(
        self, timeout_seconds: float, processes: int = 2, memory_mb: int = 0, wait_ms: int = 20
    ) -> None:
        self.timeout = timeout_seconds
        self.processes = processes
        self.memory_mb = memory_mb
        self.wait_seconds = wait_ms / 1000
        self._pool: _Pool | None = None
        self._pool_pid: int | None = None
        self._lock = threading.Lock()

    def _processes(self) -> _Pool:
        # A pool made before a fork belongs to the parent: make one per process.
        if self._pool is None or self._pool_pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pool_pid != os.getpid():
                    self._pool = _Pool(self.processes, self.memory_mb, self.wait_seconds)
                    self._pool_pid = os.getpid()
        return self._pool

    def evaluate(self, policy: PolicySnapshot, document: dict[str, Any]) -> EngineResult:
        return result_from_decision(self._processes().run(policy, document, self.timeout))

    def close(self) -> None:
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()
            self._pool = None
