"""Datasets a registry names (an MLflow run's inputs, a model card's ``datasets``), as
inventory datasets: found by slug, or registered on first sight (as ``internal``, to be
reviewed: the registry does not say how sensitive they are)."""

from typing import Any

from django.utils.text import slugify

from governance.core.actor import Actor
from governance.inventory.models import Dataset
from governance.inventory.services import dataset_create


def registry_dataset(
    *, actor: Actor, name: str, source: str, owner: Any, note: str
) -> Dataset | None:
    name = name.strip()
    if not name:
        return None
    slug = slugify(name.replace("/", "-"))[:80].strip("-") or "dataset"
    existing = Dataset.objects.filter(slug=slug).first()
    if existing is None:
        existing = dataset_create(
            actor=actor,
            slug=slug,
            name=name[:200],
            source=source[:500] or "registry",
            owner=owner,
            classification="internal",
            lineage_uri=source if source.startswith(("http://", "https://")) else "",
            description=f"{note}; check its classification.",
        )
    return existing if existing.archived_at is None else None
