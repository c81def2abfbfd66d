"""Service errors shown on a web form: each message next to the field it names, the rest
above the form. Services raise ``ValidationError`` (by field) or ``DomainError``."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from governance.core.errors import DomainError


def form_add_service_errors(form: forms.BaseForm, exc: Exception, **aliases: str) -> None:
    """``aliases`` maps a service field name to the form field that edits it."""
    errors: dict[str, Any]
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        errors = exc.message_dict
    elif isinstance(exc, DomainError) and exc.errors:
        errors = exc.errors
    elif isinstance(exc, DomainError):
        errors = {None: [exc.detail]}
    elif isinstance(exc, ValidationError):
        errors = {None: exc.messages}
    else:
        raise exc
    for field, messages in errors.items():
        name = aliases.get(field or "", field)
        form.add_error(name if name in form.fields else None, messages)
