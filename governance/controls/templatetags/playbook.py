"""The Playbook's text keeps its own lists as "- " lines inside one action; show them as a list."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def playbook_text(text: str) -> SafeString:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    prose = [line for line in lines if not line.startswith("- ")]
    items = [line[2:].strip() for line in lines if line.startswith("- ")]
    body = format_html_join(" ", "{}", ((p,) for p in prose))
    if not items:
        return body
    listed = format_html_join("", "<li>{}</li>", ((i,) for i in items))
    return format_html('{}<ul class="playbook-sub">{}</ul>', body, listed)
