"""The section interface: one small provider per capability, so reports grow with the product.

A section is a ``Section`` value: a key (its anchor in the PDF), a title, the template that draws
it, the report kinds it belongs to, and ``build(scope)``, which reads what it needs and returns
``SectionContent`` or ``None``. ``None`` means "nothing to say here": a capability that is not
installed (``apps.is_installed``) or does not apply to this scope is simply absent from the PDF,
never faked. ``SectionContent.summary`` lines are gathered into the executive summary, and
``toc`` entries become second-level lines in the table of contents (and bookmarks, since their
headings are ``h2`` in the template).
"""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from governance.inventory.models import AISystem


@dataclass(frozen=True)
class ReportScope:
    """What a report covers. ``system`` is set for system reports only; the audit chain head
    was read when rendering began, and every section reads the log up to it."""

    kind: str
    since: datetime
    until: datetime
    generated_at: datetime
    chain_sequence: int
    chain_hash: str
    system: AISystem | None = None
    filters: dict[str, str] = field(default_factory=dict)
    incident: Any = None  # serious incident reports: the incidents.Incident
    # The signed checkpoint made for this report (C2SP signed note) and the public keys it
    # verifies with; empty when audit signing is disabled.
    checkpoint: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)

    @property
    def checkpoint_data_url(self) -> str:
        """The checkpoint as a data: URL, attached to the PDF as a file of its exact bytes."""
        encoded = base64.b64encode(self.checkpoint.encode()).decode()
        return f"data:text/plain;charset=utf-8;base64,{encoded}"


@dataclass
class SectionContent:
    """What a section found: its template context, its executive-summary lines (label, value),
    and second-level table-of-contents entries (anchor, title)."""

    context: dict[str, Any]
    summary: list[tuple[str, str]] = field(default_factory=list)
    toc: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str
    kinds: frozenset[str]
    build: Callable[[ReportScope], SectionContent | None]


@dataclass
class BuiltSection:
    """A section with its content, ready for the print template."""

    key: str
    title: str
    template: str
    content: SectionContent
