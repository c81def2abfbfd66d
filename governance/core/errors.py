"""Domain errors that services raise; interfaces turn them into problem+json or form errors."""


class DomainError(Exception):
    """A refused operation. ``status`` and ``code`` say how the API reports it."""

    status = 400
    code = "invalid-request"
    title = "Invalid request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"
