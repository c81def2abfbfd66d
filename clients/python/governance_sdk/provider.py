"""An OpenFeature provider that evaluates kill switches and runtime controls in-process.

It loads every flag in scope with one OFREP bulk evaluation, then follows the server's event
stream (Server-Sent Events, resumed with Last-Event-ID) so a flip is applied within the time it
takes to arrive. An evaluation is a dictionary lookup. When the provider has heard nothing from
the server (not an event, not a heartbeat) for ``stale_after`` seconds, every control answers
its safe value (reason STALE): a kill switch whose safe state is engaged fails closed.
"""

import contextlib
import json
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import FlagNotFoundError, TypeMismatchError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagType, Reason
from openfeature.provider import AbstractProvider, Metadata

from governance_sdk.http import GovernanceError, request_json

logger = logging.getLogger("governance_sdk")

_TYPES: dict[FlagType, Callable[[Any], bool]] = {
    FlagType.BOOLEAN: lambda v: isinstance(v, bool),
    FlagType.STRING: lambda v: isinstance(v, str),
    FlagType.INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
    FlagType.FLOAT: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    FlagType.OBJECT: lambda v: isinstance(v, dict | list),
}


def evaluation_from(item: Mapping[str, Any]) -> dict[str, Any]:
    """A switch's or a control's representation (stream events) as an OFREP evaluation."""
    if "state" in item:
        value, variant = item["state"] == "engaged", item["state"]
        kind, safe = "kill_switch", item["safe_state"] == "engaged"
    else:
        value, kind, safe = item["value"], item["kind"], item["safe_value"]
        variant = str(value) if not isinstance(value, bool) else ("on" if value else "off")
    return {
        "key": item["key"],
        "value": value,
        "variant": variant,
        "reason": "STATIC",
        "metadata": {"system": item["system"], "kind": kind, "version": item["version"]},
        "safe": safe,
    }


def _safe_of(evaluation: Mapping[str, Any]) -> Any:
    if "safe" in evaluation:
        return evaluation["safe"]
    safe = evaluation.get("metadata", {}).get("safeValue")
    if isinstance(safe, str) and isinstance(evaluation.get("value"), dict | list):
        with contextlib.suppress(ValueError):
            return json.loads(safe)
    return safe


class GovernanceProvider(AbstractProvider):
    """``GovernanceProvider(url, token=..., system="support-copilot").start()``, then use it
    through ``openfeature.api.set_provider`` or directly (``is_engaged``, ``value``)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str,
        system: str | None = None,
        environment: str | None = None,
        stale_after: float = 30.0,
        timeout: float = 5.0,
        follow: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token, self.system, self.environment = token, system, environment
        self.stale_after, self.timeout, self.follow = stale_after, timeout, follow
        self.clock = clock
        self.flags: dict[str, dict[str, Any]] = {}
        self.last_heard = float("-inf")
        self.last_event_id: int | None = None
        self.connected = threading.Event()
        self._etag = ""
        self._stream_url = ""
        self._retry = 1.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._response: Any = None
        self._lock = threading.Lock()

    # --- OpenFeature ---------------------------------------------------------------------

    def get_metadata(self) -> Metadata:
        return Metadata(name="governance")

    def initialize(self, evaluation_context: EvaluationContext | None = None) -> None:
        try:
            self.refresh()
        except GovernanceError as exc:  # start anyway: safe values until the server answers
            logger.warning("governance: initial load failed (%s); answering safe values", exc)
        if self.follow and self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="governance-sdk", daemon=True)
            self._thread.start()

    def shutdown(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            # Closing the response does not wake a thread blocked reading it; shutting the
            # socket down does.
            with contextlib.suppress(Exception):
                response.fp.raw._sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                response.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def start(self) -> "GovernanceProvider":
        self.initialize()
        return self

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(FlagType.BOOLEAN, flag_key)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(FlagType.STRING, flag_key)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(FlagType.INTEGER, flag_key)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        return self._resolve(FlagType.FLOAT, flag_key)

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[Any] | Mapping[str, Any],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Any]:
        return self._resolve(FlagType.OBJECT, flag_key)

    def _resolve(self, flag_type: FlagType, key: str) -> FlagResolutionDetails[Any]:
        evaluation = self.flags.get(key)
        if evaluation is None:
            raise FlagNotFoundError(f"No flag {key!r} in scope.")
        if self.is_stale():
            value, reason, variant = _safe_of(evaluation), Reason.STALE, "safe"
        else:
            value, reason, variant = evaluation["value"], Reason.STATIC, evaluation["variant"]
        if not _TYPES[flag_type](value):
            raise TypeMismatchError(f"{key} is not a {flag_type.value} flag.")
        return FlagResolutionDetails(
            value=value, reason=reason, variant=variant, flag_metadata=evaluation["metadata"]
        )

    # --- Direct helpers ------------------------------------------------------------------

    def is_stale(self) -> bool:
        return self.clock() - self.last_heard > self.stale_after

    def value(self, key: str, default: Any = None) -> Any:
        """The control's value, its safe value when stale, ``default`` when unknown."""
        evaluation = self.flags.get(key)
        if evaluation is None:
            return default
        if self.clock() - self.last_heard > self.stale_after:
            return _safe_of(evaluation)
        return evaluation["value"]

    def is_engaged(self, key: str) -> bool:
        """True while the kill switch is engaged; its safe state when stale; a switch never
        heard of counts as engaged (fail closed)."""
        return self.value(key, True) is True

    # --- Loading and following -----------------------------------------------------------

    def refresh(self) -> bool:
        """Load every flag in scope (OFREP bulk, If-None-Match); True when something changed."""
        context = {
            k: v for k, v in (("system", self.system), ("environment", self.environment)) if v
        }
        status, headers, body = request_json(
            "POST",
            f"{self.base_url}/ofrep/v1/evaluate/flags",
            token=self.token,
            body={"context": context},
            headers={"If-None-Match": self._etag} if self._etag else None,
            timeout=self.timeout,
        )
        self.last_heard = self.clock()
        if status == 304:
            return False
        self._etag = headers.get("ETag", "")
        streams = [s for s in body.get("eventStreams", []) if s.get("type") == "sse"]
        if streams:
            self._stream_url = streams[0]["url"]
        with self._lock:
            self.flags = {f["key"]: f for f in body["flags"] if "value" in f}
        return True

    def _apply(self, item: Mapping[str, Any]) -> None:
        evaluation = evaluation_from(item)
        with self._lock:
            known = self.flags.get(evaluation["key"])
            if known is not None and known["metadata"].get("version", 0) >= item["version"]:
                return
            self.flags = {**self.flags, evaluation["key"]: evaluation}

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._stream_url:
                    self.refresh()
                self._read_stream()
            except Exception as exc:  # any failure: wait, reconnect, resume
                if self._stop.is_set():
                    return
                logger.info("governance: stream interrupted (%s); reconnecting", exc)
            self.connected.clear()
            self._stop.wait(self._retry)

    def _read_stream(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        url = self._stream_url or f"{self.base_url}/api/v1/kill-switches/stream"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310
        # A read that waits longer than stale_after means the server went quiet: reconnect.
        with urllib.request.urlopen(request, timeout=max(1.0, self.stale_after)) as response:  # noqa: S310
            self._response = response
            self.connected.set()
            event, data, event_id = "", [], None
            while not self._stop.is_set():
                raw = response.readline()
                if not raw:
                    return  # the server ended the stream: reconnect with Last-Event-ID
                self.last_heard = self.clock()
                line = raw.decode().rstrip("\r\n")
                if not line:
                    self._dispatch(event, "\n".join(data), event_id)
                    event, data, event_id = "", [], None
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        event = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        event_id = value
                    elif name == "retry" and value.isdigit():
                        self._retry = int(value) / 1000

    def _dispatch(self, event: str, data: str, event_id: str | None) -> None:
        if event_id and event_id.isdigit():
            self.last_event_id = int(event_id)
        if not data:
            return
        payload = json.loads(data)
        if event == "snapshot":
            for item in payload:
                self._apply(item)
        elif event in ("flip", "control"):
            self._apply(payload)
