"""Page-number pagination with a caller-chosen page size, capped.

Strict like the filters: a ``page`` or ``page_size`` that is not a positive integer is a 400
with the field named, not silently the first page; a page past the end stays DRF's 404.
"""

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        errors: dict[str, list[str]] = {}
        for name, maximum in (
            (self.page_query_param, None),
            (self.page_size_query_param, self.max_page_size),
        ):
            raw = request.query_params.get(name)
            if raw is None:
                continue
            if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
                errors[name] = ["A positive integer."]
            elif maximum is not None and int(raw) > maximum:
                errors[name] = [f"At most {maximum}."]
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
