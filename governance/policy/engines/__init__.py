"""Engine adapters behind one interface; OPA_URL chooses the OPA server over embedded Rego."""

from functools import cache

from django.conf import settings

from governance.policy.engines.base import EngineError, EngineResult, PolicyEngine
from governance.policy.engines.embedded import EmbeddedEngine
from governance.policy.engines.opa import OpaEngine

__all__ = ["EngineError", "EngineResult", "PolicyEngine", "embedded_engine", "policy_engine"]


@cache
def embedded_engine() -> EmbeddedEngine:
    return EmbeddedEngine(timeout_seconds=settings.POLICY_TIMEOUT_MS / 1000)


@cache
def _opa_engine(url: str) -> OpaEngine:
    return OpaEngine(url, timeout_seconds=settings.POLICY_TIMEOUT_MS / 1000)


def policy_engine() -> PolicyEngine:
    """The engine that decides: the OPA server when OPA_URL is set, else embedded Rego."""
    if settings.OPA_URL:
        return _opa_engine(settings.OPA_URL)
    return embedded_engine()
