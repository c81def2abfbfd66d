"""{% load redaction %} ... {{ url|redact_url }}: see governance.core.redaction."""

from django import template

from governance.core.redaction import url_redacted

register = template.Library()


@register.filter
def redact_url(value: str) -> str:
    return url_redacted(str(value or ""))
