"""How an inspection error reaches API clients: 422 problem+json naming format and offset."""

from governance.artifacts.record import InspectionError
from governance.core.errors import DomainError


class ArtifactUnreadable(DomainError):
    status = 422
    code = "artifact-unreadable"
    title = "The artifact could not be inspected"

    @classmethod
    def of(cls, exc: InspectionError, field: str = "file") -> "ArtifactUnreadable":
        return cls(str(exc), errors={field: [str(exc)]})
