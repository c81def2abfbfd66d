"""Loading a framework catalog: idempotent, audited when it changes anything."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.db import models, transaction

from governance.audit.services import Target, audit_record
from governance.controls.models import ControlCategory, ControlFunction, Framework, Subcategory
from governance.core.actor import Actor

DATA_DIR = Path(__file__).resolve().parent / "data"
NIST_AI_RMF = DATA_DIR / "nist-ai-rmf-1.0.json"
GUIDANCE_KEYS = (
    "suggested_actions",
    "documentation",
    "transparency_resources",
    "ai_actors",
    "topics",
)


@dataclass
class CatalogLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(
    model: type[models.Model],
    result: CatalogLoadResult,
    lookup: dict[str, Any],
    values: dict[str, Any],
) -> models.Model:
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        result.created += 1
        return model.objects.create(**lookup, **values)
    if any(getattr(obj, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
        result.updated += 1
    else:
        result.unchanged += 1
    return obj


def catalog_load(*, actor: Actor, path: Path = NIST_AI_RMF) -> tuple[Framework, CatalogLoadResult]:
    """Create or refresh a framework from its JSON; rows are matched by official id, never
    deleted, so reloading keeps everything that points at them."""
    document = json.loads(path.read_text(encoding="utf-8"))
    result = CatalogLoadResult()
    slug = f"{document['framework']}-{document['version']}".lower().replace(" ", "-")
    with transaction.atomic():
        framework = _upsert(
            Framework,
            result,
            {"slug": slug},
            {
                "name": document["framework"],
                "version": document["version"],
                "publication": document.get("publication", {}).get("id", ""),
                "source": document.get("source", ""),
            },
        )
        for f_pos, function in enumerate(document["functions"], start=1):
            fn = _upsert(
                ControlFunction,
                result,
                {"framework": framework, "code": function["id"]},
                {
                    "name": function["name"],
                    "description": function.get("description", ""),
                    "position": f_pos,
                },
            )
            for c_pos, category in enumerate(function["categories"], start=1):
                cat = _upsert(
                    ControlCategory,
                    result,
                    {"function": fn, "code": category["id"]},
                    {"title": category["title"], "position": c_pos},
                )
                for s_pos, sub in enumerate(category["subcategories"], start=1):
                    _upsert(
                        Subcategory,
                        result,
                        {"category": cat, "code": sub["id"]},
                        {
                            "text": sub["text"],
                            "guidance": {key: sub.get(key, []) for key in GUIDANCE_KEYS},
                            "position": s_pos,
                        },
                    )
        if result.changed:
            audit_record(
                actor=actor,
                action="controls.catalog.loaded",
                target=Target.of(framework, id_field="slug"),
                after={"file": path.name, **asdict(result)},
            )
    return framework, result
