"""Strict query-parameter filters for list APIs: one mechanism, django-filter's.

An API view names its ``filterset_class`` (a ``FilterSet`` from here) and calls
``filter_queryset`` (the filters applied to a selector's permission-scoped queryset) or
``filter_params`` (the validated values, for a selector that takes them as arguments); the
OpenAPI documents the filters from the same class (``governance.core.openapi``). A value the
filter cannot take (an unknown enum value, a number that is not one, a boolean other than
``true``/``false``) is a 400 problem naming the parameter, never a silently unfiltered or
empty list.
"""

from datetime import UTC
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework.request import Request


class StrictBooleanField(forms.Field):
    """``true`` or ``false``; django-filter's own boolean reads anything else as 'no filter'."""

    _VALUES = {"true": True, "false": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self._VALUES[str(value)]
        except KeyError:
            raise forms.ValidationError("Send true or false.", code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time with any offset Python takes, compared in UTC: PostgreSQL refuses
    offsets beyond ±15:59 (``+22:29`` was a 500)."""

    def to_python(self, value: Any) -> Any:
        parsed = super().to_python(value)
        return parsed.astimezone(UTC) if getattr(parsed, "tzinfo", None) is not None else parsed


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class IntegerFilter(django_filters.NumberFilter):
    """Whole numbers only (django-filter's number filter takes decimals)."""

    field_class = forms.IntegerField


class FilterSet(django_filters.FilterSet):
    """Base for API filter sets: model boolean fields get the strict boolean too."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": BooleanFilter},
    }


def _refuse_empty_values(filterset: django_filters.FilterSet) -> None:
    """An empty ``?risk_tier=`` is not a value of the enum: the API says so (an HTML form that
    submits empty fields uses the FilterSet directly and keeps 'empty means any')."""
    for name, field in filterset.filters.items():
        # Text filters take "" (their schema allows it); enums, numbers, dates and booleans not.
        typed = not isinstance(field, django_filters.CharFilter)
        if typed and name in filterset.data and filterset.data.get(name) == "":
            filterset.form.add_error(name, "Leave the parameter out for no filter.")


def _validated(filterset: django_filters.FilterSet) -> django_filters.FilterSet:
    valid = filterset.is_valid()
    _refuse_empty_values(filterset)
    if not valid or filterset.form.errors:
        raise translate_validation(filterset.form.errors)
    return filterset


class StrictFilterBackend(DjangoFilterBackend):
    """DEFAULT_FILTER_BACKENDS for generic views: the same strictness as ``filter_queryset``."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        return _validated(filterset).qs


def filter_queryset(*, request: Request, view: Any, queryset: QuerySet) -> QuerySet:
    """The queryset filtered by ``view.filterset_class``; invalid values raise a 400."""
    return StrictFilterBackend().filter_queryset(request, queryset, view)


def filter_params(*, request: Request, view: Any) -> dict[str, Any]:
    """The query parameters ``view.filterset_class`` declares, validated and typed (absent
    ones are None); invalid values raise a 400."""
    filterset_class = view.filterset_class
    filterset = filterset_class(
        data=request.query_params,
        queryset=filterset_class._meta.model._default_manager.none(),
        request=request,
    )
    return dict(_validated(filterset).form.cleaned_data)
