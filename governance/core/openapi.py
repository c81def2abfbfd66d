"""The OpenAPI document tells the truth by default: ``DEFAULT_SCHEMA_CLASS`` for every API view.

Endpoints added anywhere get, without writing anything per operation:

- the problem+json errors the operation can return (see ``error_statuses``), with the shared
  ``Problem`` schema; a status an operation declares itself keeps its description;
- the ``Idempotency-Key`` header on every handler decorated with ``@idempotent``;
- pagination on APIView list GETs, as for DRF's generic views: the page envelope and the
  ``page`` / ``page_size`` parameters, unless the view says ``pagination_class = None`` (an
  export that returns the whole array);
- an APIView's ``filterset_class`` as query parameters (``governance.core.filtering``).
"""

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny

from governance.core.idempotency import HEADER as IDEMPOTENCY_HEADER
from governance.core.idempotency import KEY_PATTERN, MAX_KEY_LENGTH, accepts_idempotency_key
from governance.core.problems import PROBLEM_CONTENT_TYPE

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_DESCRIPTIONS = {
    400: "Invalid request: the fields in `errors` say what to fix; nothing was changed.",
    401: "No credentials, or an unknown, expired or revoked token.",
    403: "The role or token scope does not allow this (or the CSRF check failed).",
    404: "An object named in the path, the query or the body does not exist (or is not "
    "visible to the caller), or the page is past the end.",
    409: "Refused by the object's current state (archived, already decided...), or a request "
    "with this Idempotency-Key is still in progress.",
    413: "The body is larger than MAX_REQUEST_BODY_BYTES.",
    415: "Unsupported Content-Type.",
    422: "This Idempotency-Key was first used with a different request.",
    429: "Too many requests: retry after the Retry-After seconds.",
}


class ProblemFieldErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(help_text="JSON pointer to the field; `#` is the request")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem: every API error is one (governance.core.problems)."""

    type = serializers.CharField(help_text="`about:blank` or `urn:governance:problem:<code>`")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(required=False)
    instance = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)
    request_id = serializers.CharField(required=False)

    class Meta:
        ref_name = "Problem"


def _default_paginator() -> Any:
    return import_string(settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"])()


class GovernanceAutoSchema(AutoSchema):
    """AutoSchema that documents the project-wide behaviour every endpoint shares."""

    # --- pagination ---------------------------------------------------------------------

    def _get_paginator(self) -> Any:
        if isinstance(self.view, GenericAPIView) or hasattr(self.view, "pagination_class"):
            return super()._get_paginator()
        if self.method != "GET":
            return None
        return _default_paginator()

    def _is_paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None

    # --- request fields -----------------------------------------------------------------

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # DRF trims strings, so "  " is blank: a required text needs a non-space character.
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and schema.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(schema)
        ):
            schema["pattern"] = r"\S"
        if (
            direction == "request"
            and schema.get("type") == "array"
            and getattr(field, "allow_empty", True) is False
        ):
            schema.setdefault("minItems", 1)  # DRF's allow_empty=False, which spectacular omits
        return schema

    # --- filters ------------------------------------------------------------------------

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        filterset_class = getattr(self.view, "filterset_class", None)
        if isinstance(self.view, GenericAPIView) or filterset_class is None:
            return super()._get_filter_parameters()
        if self.method != "GET":
            return []
        from django_filters.rest_framework import DjangoFilterBackend

        extension = DjangoFilterExtension(DjangoFilterBackend())
        model = filterset_class._meta.model
        parameters: list[dict[str, Any]] = []
        for name, field in filterset_class.base_filters.items():
            parameters += extension.resolve_filter_field(self, model, filterset_class, name, field)
        return parameters

    # --- Idempotency-Key ----------------------------------------------------------------

    def _handler(self) -> Any:
        return getattr(self.view, self.method.lower(), None)

    def _accepts_idempotency_key(self) -> bool:
        return accepts_idempotency_key(self._handler())

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters = super()._get_parameters()
        if not self._accepts_idempotency_key():
            return parameters
        # Ours replaces any hand-written Idempotency-Key parameter: one pattern, the server's.
        parameters = [
            p for p in parameters if (p["name"], p["in"]) != (IDEMPOTENCY_HEADER, "header")
        ]
        parameters.append(
            build_parameter_type(
                name=IDEMPOTENCY_HEADER,
                schema={"type": "string", "pattern": KEY_PATTERN, "maxLength": MAX_KEY_LENGTH},
                location=OpenApiParameter.HEADER,
                required=False,
                description="Send the same key to retry safely: the first response is replayed "
                "(`Idempotent-Replayed: true`); the same key with a different request is 422. "
                "Empty is the same as none.",
            )
        )
        return sorted(parameters, key=lambda p: p["name"])

    # --- errors -------------------------------------------------------------------------

    def _has_request_body(self) -> bool:
        return self.method in _BODY_METHODS and self.get_request_serializer() is not None

    def _is_open(self) -> bool:
        permissions = self.view.get_permissions()
        return bool(permissions) and all(isinstance(p, AllowAny) for p in permissions)

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        """The error statuses the shared machinery can answer for this operation."""
        statuses: set[int] = set()
        parameters = operation.get("parameters", [])
        if (
            self._has_request_body()
            or self._accepts_idempotency_key()
            or any(p["in"] == "query" for p in parameters)
        ):
            statuses.add(400)  # field errors, unparsable bodies, bad filter values or keys
        if not self._is_open():
            if self.view.get_authenticators():
                statuses.add(401)
            statuses.add(403)
        if (
            any(p["in"] in ("path", "query") for p in parameters)
            or self._is_paginated()
            or self._has_request_body()
        ):
            statuses.add(404)  # an object named in the path, query or body is not there
        if self.method in _WRITE_METHODS:
            statuses.add(409)  # the object's state refuses the change (archived, already decided)
        if self._has_request_body():
            statuses |= {413, 415}
        if self._accepts_idempotency_key():
            statuses |= {409, 422}
        if self._throttled():
            statuses.add(429)
        return statuses

    def _throttled(self) -> bool:
        """A 429 is possible where a throttle counts this method (one may say it does not)."""
        for throttle in self.view.get_throttles():
            counts = getattr(throttle, "counts", None)
            if counts is None or counts(self.method, self.view):
                return True
        return False

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        problem = {"schema": self.resolve_serializer(ProblemSerializer, "response").ref}
        responses = operation["responses"]
        declared = {int(code) for code in responses if str(code).isdigit()}
        for code in sorted(self.error_statuses(operation) | {c for c in declared if c >= 400}):
            response = responses.setdefault(str(code), {})
            if not response.get("description"):
                response["description"] = _DESCRIPTIONS.get(code, "Error")
            # An error a view declares with a body of its own keeps it; the rest are problems.
            if not response.get("content"):
                response["content"] = {PROBLEM_CONTENT_TYPE: problem}
            if code == 429:
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before retrying",
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation
