"""A real OPA server through opa-python-client: push the version, query the Data API.

The active version's modules go to OPA's Policy API under ids ``governance/<file>``, its data
to ``/v1/data/policy``. Each process remembers the hash it pushed; a result that comes back
undefined (an OPA that restarted and lost its policies) triggers one re-push and a retry.
"""

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient
from opa_client.errors import DeletePolicyError, RegoParseError

from governance.policy.engines.base import (
    EngineError,
    EngineResult,
    EngineTimeout,
    result_from_decision,
)
from governance.policy.sources import DATA_MOUNT, DECISION_PATH, PolicySnapshot

_PACKAGE, _RULE = DECISION_PATH.rsplit("/", 1)


class OpaEngine:
    name = "opa"

    def __init__(self, url: str, timeout_seconds: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA_URL {url!r} is not an http(s) URL")
        self.client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 8181),
            ssl=parts.scheme == "https",
            timeout=timeout_seconds,
            retries=0,  # the caller is waiting; fail closed rather than retry past its budget
        )
        self.timeout = timeout_seconds
        self._pushed: str | None = None
        self._pushed_modules: set[str] = set()
        self._lock = threading.Lock()

    def push(self, policy: PolicySnapshot) -> None:
        with self._lock:
            try:
                for name, source in sorted(policy.modules.items()):
                    self.client.update_policy_from_string(
                        source, f"governance/{name}", rego_compat=False
                    )
                for stale in self._pushed_modules - set(policy.modules):
                    self.client.delete_policy(f"governance/{stale}")
                self.client.update_or_create_data(policy.data, DATA_MOUNT)
            except requests.Timeout:
                raise EngineTimeout(
                    f"OPA did not accept the policy within {self.timeout}s"
                ) from None
            except (
                requests.RequestException,
                RegoParseError,
                DeletePolicyError,
                ValueError,
            ) as exc:
                raise EngineError(f"OPA refused policy v{policy.number}: {exc}") from None
            self._pushed = policy.content_hash
            self._pushed_modules = set(policy.modules)

    def _query(self, document: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.client.query_rule(document, _PACKAGE, _RULE)
        except requests.Timeout:
            raise EngineTimeout(
                f"OPA did not decide within {self.timeout * 1000:.0f} ms."
            ) from None
        except (requests.RequestException, ValueError) as exc:
            raise EngineError(f"OPA could not be queried: {exc}") from None

    def evaluate(self, policy: PolicySnapshot, document: dict[str, Any]) -> EngineResult:
        if self._pushed != policy.content_hash:
            self.push(policy)
        body = self._query(document)
        if "result" not in body:
            self.push(policy)
            body = self._query(document)
            if "result" not in body:
                raise EngineError("OPA gave no decision for this input (undefined).")
        return result_from_decision(body["result"])
