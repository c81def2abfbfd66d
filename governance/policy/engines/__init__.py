"""Engine adapters behind one interface; OPA_URL chooses the OPA server over embedded Rego."""

from functools import cache

from django.conf import settings

from governance.policy.engines.base import EngineError, EngineResult, PolicyEngine
from governance.policy.engines.embedded import EmbeddedEngine
from governance.policy.engines.opa import OpaEngine

__all__ = [
    "EngineError",
    "EngineResult",
    "PolicyEngine",
    "embedded_engine",
    "policy_engine",
    "shadow_engine",
]


def _embedded(processes: int) -> EmbeddedEngine:
    return EmbeddedEngine(
        timeout_seconds=settings.POLICY_TIMEOUT_MS / 1000,
        processes=processes,
        memory_mb=settings.POLICY_ENGINE_MEMORY_MB,
        wait_ms=settings.POLICY_ENGINE_WAIT_MS,
    )


@cache
def embedded_engine() -> EmbeddedEngine:
    return _embedded(settings.POLICY_ENGINE_PROCESSES)


@cache
def shadow_engine() -> EmbeddedEngine:
    """Shadow versions get processes of their own: a slow shadow never holds a decision."""
    return _embedded(1)


@cache
def _opa_engine(url: str) -> OpaEngine:
    return OpaEngine(url, timeout_seconds=settings.POLICY_TIMEOUT_MS / 1000)


def policy_engine() -> PolicyEngine:
    """The engine that decides: the OPA server when OPA_URL is set, else embedded Rego."""
    if settings.OPA_URL:
        return _opa_engine(settings.OPA_URL)
    return embedded_engine()
