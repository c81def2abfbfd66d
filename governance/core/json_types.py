"""JSON request bodies are held to the types the OpenAPI document gives them.

DRF coerces: a JSON number is accepted where a string is expected (``"prompt_version": 0``),
``1`` and ``"true"`` where a boolean is, ``"7"`` where an integer is. The schema promises
``type: string`` / ``boolean`` / ``integer``, so a client that sends something else gets a 400
naming the field instead of a silently converted value. Form-encoded and query-string input
(a ``QueryDict``: every value a string) keeps DRF's parsing. Installed once, for every
serializer of every app, by ``CoreConfig.ready``.
"""

from collections.abc import Callable
from typing import Any

from django.http import QueryDict
from rest_framework import fields, relations


def _is_json_input(field: fields.Field) -> bool:
    data = getattr(field.root, "initial_data", None)
    return data is not None and not isinstance(data, QueryDict)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_RULES: list[tuple[type[fields.Field], Callable[[Any], bool]]] = [
    (fields.CharField, _is_string),
    (fields.IntegerField, _is_integer),
    (fields.BooleanField, _is_boolean),
    (fields.FloatField, _is_number),
]


def _strict(
    original: Callable[..., Any], accepts: Callable[[Any], bool], error: str = "invalid"
) -> Callable[..., Any]:
    def to_internal_value(self: fields.Field, data: Any) -> Any:
        if _is_json_input(self) and not accepts(data):
            self.fail(error, input_type=type(data).__name__)
        return original(self, data)

    to_internal_value.strict_json_types = True  # type: ignore[attr-defined]
    return to_internal_value


def install() -> None:
    for cls, accepts in _RULES:
        if not getattr(cls.to_internal_value, "strict_json_types", False):
            cls.to_internal_value = _strict(cls.to_internal_value, accepts)  # type: ignore[method-assign]
    # many=True relations iterate what they are given: a JSON object would be its keys.
    many = relations.ManyRelatedField
    if not getattr(many.to_internal_value, "strict_json_types", False):
        many.to_internal_value = _strict(  # type: ignore[method-assign]
            many.to_internal_value, lambda value: isinstance(value, list), "not_a_list"
        )
