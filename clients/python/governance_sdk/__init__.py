"""Runtime controls and policy gates of the governance control plane, for AI services and
pipelines: ``GovernanceProvider`` (OpenFeature), ``policy_check``, ``version_register`` and the
``govctl`` command."""

from governance_sdk.http import GovernanceError
from governance_sdk.policy import PolicyResult, policy_check
from governance_sdk.provider import GovernanceProvider
from governance_sdk.register import ArtifactPathError, Registration, version_register

__all__ = [
    "ArtifactPathError",
    "GovernanceError",
    "GovernanceProvider",
    "PolicyResult",
    "Registration",
    "policy_check",
    "version_register",
]
