"""Writes to the control catalog, the applicability profile, control implementations and
evidence; every change audited in its transaction."""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction

from governance.accounts.models import User
from governance.audit.services import Target, audit_record
from governance.controls.applicability import ALL, DEFAULT_PROFILE
from governance.controls.models import (
    Applicability,
    ControlCategory,
    ControlFunction,
    ControlImplementation,
    ControlStatus,
    CrosswalkLink,
    Evidence,
    EvidenceKind,
    Framework,
    GenAIAction,
    GenAIRisk,
    Subcategory,
    TierRequirement,
)
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.models import AISystem, RiskTier

DATA_DIR = Path(__file__).resolve().parent / "data"
NIST_AI_RMF = DATA_DIR / "nist-ai-rmf-1.0.json"
NIST_AI_600_1 = DATA_DIR / "nist-ai-600-1.json"
EU_AI_ACT = DATA_DIR / "eu-ai-act-2024-1689.json"
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


def _sync(
    model: type[models.Model],
    keys: tuple[str, ...],
    rows: list[dict[str, Any]],
    result: CatalogLoadResult,
) -> dict[tuple, Any]:
    """Create missing rows and update changed ones in bulk; returns the rows by their key.

    A few queries per level instead of one per row: the catalog has some 400 rows.
    """
    existing = {tuple(getattr(obj, k) for k in keys): obj for obj in model.objects.all()}
    to_create, to_update, changed_fields = [], [], set()
    for row in rows:
        key = tuple(row[k] for k in keys)
        obj = existing.get(key)
        if obj is None:
            existing[key] = obj = model(**row)
            to_create.append(obj)
            continue
        diff = {name for name, value in row.items() if getattr(obj, name) != value}
        for name in diff:
            setattr(obj, name, row[name])
        if diff:
            to_update.append(obj)
            changed_fields |= diff
        else:
            result.unchanged += 1
    model.objects.bulk_create(to_create)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields))
    result.created += len(to_create)
    result.updated += len(to_update)
    return {tuple(row[k] for k in keys): existing[tuple(row[k] for k in keys)] for row in rows}


def catalog_load(
    *, actor: Actor, path: Path = NIST_AI_RMF, genai_path: Path | None = NIST_AI_600_1
) -> tuple[Framework, CatalogLoadResult]:
    """Create or refresh a framework from its JSON (and the GenAI profile that extends it).

    Rows are matched by official id and never deleted, so reloading keeps every mapping that
    points at them; a newer version of a framework becomes a new Framework row beside the old.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    result = CatalogLoadResult()
    slug = document.get("slug") or f"{document['framework']}-{document['version']}".lower().replace(
        " ", "-"
    )
    framework_row = {
        "slug": slug,
        "name": document["framework"],
        "short_name": document.get("short_name", document["framework"]),
        "applicability": document.get("applicability", Applicability.RISK_TIER),
        "version": document["version"],
        "publication": document.get("publication", {}).get("id", ""),
        "source": document.get("source", ""),
    }
    with transaction.atomic():
        framework = _sync(Framework, ("slug",), [framework_row], result)[(slug,)]
        function_rows, category_rows, sub_rows = [], [], []
        for f_pos, fn in enumerate(document["functions"], start=1):
            function_rows.append(
                {
                    "framework_id": framework.pk,
                    "code": fn["id"],
                    "name": fn["name"],
                    "description": fn.get("description", ""),
                    "position": f_pos,
                }
            )
        functions = _sync(ControlFunction, ("framework_id", "code"), function_rows, result)
        for fn in document["functions"]:
            function_id = functions[(framework.pk, fn["id"])].pk
            for c_pos, cat in enumerate(fn["categories"], start=1):
                category_rows.append(
                    {
                        "function_id": function_id,
                        "code": cat["id"],
                        "title": cat["title"],
                        "position": c_pos,
                    }
                )
        categories = {
            code: obj
            for (_, code), obj in _sync(
                ControlCategory, ("function_id", "code"), category_rows, result
            ).items()
        }
        for fn in document["functions"]:
            for cat in fn["categories"]:
                for s_pos, sub in enumerate(cat["subcategories"], start=1):
                    sub_rows.append(
                        {
                            "category_id": categories[cat["id"]].pk,
                            "code": sub["id"],
                            "text": sub["text"],
                            "guidance": {key: sub.get(key, []) for key in GUIDANCE_KEYS},
                            "applies_to": sub.get("applies_to", {}),
                            "position": s_pos,
                        }
                    )
        subcategories = {
            code: obj
            for (_, code), obj in _sync(
                Subcategory, ("category_id", "code"), sub_rows, result
            ).items()
        }
        if genai_path is not None:
            _load_genai_profile(genai_path, subcategories, result)
        defaults = (
            _default_applicability(framework)
            if framework.applicability == Applicability.RISK_TIER
            else []
        )
        crosswalk = _seed_crosswalk(document, subcategories)
        result.created += crosswalk
        if result.changed or defaults:
            audit_record(
                actor=actor,
                action="controls.catalog.loaded",
                target=Target.of(framework, id_field="slug"),
                after={
                    "file": path.name,
                    **asdict(result),
                    "default_applicability_for": defaults,
                    "crosswalk_links_created": crosswalk,
                },
            )
    return framework, result


def _seed_crosswalk(document: dict[str, Any], subcategories: dict[str, Subcategory]) -> int:
    """Write the shipped crosswalk for obligations that have none yet, so reloading never
    undoes an admin's edits. Targets are looked up by code in any framework already loaded."""
    shipped = {
        sub["id"]: sub["crosswalk"]
        for fn in document["functions"]
        for cat in fn["categories"]
        for sub in cat["subcategories"]
        if sub.get("crosswalk")
    }
    if not shipped:
        return 0
    sources = {code: subcategories[code] for code in shipped}
    mapped = set(
        CrosswalkLink.objects.filter(source__in=sources.values()).values_list(
            "source_id", flat=True
        )
    )
    targets = dict(
        Subcategory.objects.filter(
            code__in={code for codes in shipped.values() for code in codes}
        ).values_list("code", "pk")
    )
    links = [
        CrosswalkLink(source=sources[code], target_id=targets[target])
        for code, codes in shipped.items()
        if sources[code].pk not in mapped
        for target in codes
        if target in targets
    ]
    CrosswalkLink.objects.bulk_create(links)
    return len(links)


def _load_genai_profile(
    path: Path, subcategories: dict[str, Subcategory], result: CatalogLoadResult
) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    risk_rows = [
        {
            "code": r["id"],
            "number": r["number"],
            "title": r["title"],
            "description": r["description"],
        }
        for r in document["risks"]
    ]
    risks = {code: obj for (code,), obj in _sync(GenAIRisk, ("code",), risk_rows, result).items()}
    action_rows = [
        {"code": a["id"], "subcategory_id": subcategories[a["subcategory"]].pk, "text": a["text"]}
        for a in document["actions"]
    ]
    actions = {
        code: obj for (code,), obj in _sync(GenAIAction, ("code",), action_rows, result).items()
    }
    through = GenAIAction.risks.through
    have = set(through.objects.values_list("genaiaction_id", "genairisk_id"))
    want = {
        (actions[a["id"]].pk, risks[code].pk) for a in document["actions"] for code in a["risks"]
    }
    through.objects.bulk_create(
        through(genaiaction_id=action_id, genairisk_id=risk_id)
        for action_id, risk_id in want - have
    )
    stale = have - want
    for action_id, risk_id in stale:
        through.objects.filter(genaiaction_id=action_id, genairisk_id=risk_id).delete()
    result.updated += len(stale)


def _default_applicability(framework: Framework) -> list[str]:
    """Write the starter profile for tiers that have none; returns the tiers written."""
    written = []
    for tier, categories in DEFAULT_PROFILE.items():
        if TierRequirement.objects.filter(risk_tier=tier).exists():
            continue
        subs = Subcategory.objects.filter(category__function__framework=framework)
        if ALL not in categories:
            subs = subs.filter(category__code__in=categories)
        TierRequirement.objects.bulk_create(
            TierRequirement(risk_tier=tier, subcategory=sub) for sub in subs
        )
        written.append(tier)
    return written


def applicability_set(
    *, actor: Actor, risk_tier: str, subcategory_codes: list[str], reason: str
) -> list[str]:
    """Replace the subcategories a risk tier requires. Returns the new list of codes."""
    errors: dict[str, list[str]] = {}
    if risk_tier not in RiskTier.values:
        errors["risk_tier"] = [f"Unknown risk tier {risk_tier!r}."]
    known = dict(
        Subcategory.objects.filter(
            code__in=subcategory_codes,
            category__function__framework__applicability=Applicability.RISK_TIER,
        ).values_list("code", "pk")
    )
    unknown = sorted(set(subcategory_codes) - set(known))
    if unknown:
        errors["subcategories"] = [f"Unknown control id(s): {', '.join(unknown)}."]
    if not reason.strip():
        errors["reason"] = ["Changing the applicability profile needs a reason."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = TierRequirement.objects.select_for_update().filter(risk_tier=risk_tier)
        before = sorted(current.values_list("subcategory__code", flat=True))
        after = sorted(known)
        if before == after:
            return after
        current.exclude(subcategory_id__in=known.values()).delete()
        kept = set(current.values_list("subcategory_id", flat=True))
        TierRequirement.objects.bulk_create(
            TierRequirement(risk_tier=risk_tier, subcategory_id=pk)
            for pk in known.values()
            if pk not in kept
        )
        audit_record(
            actor=actor,
            action="controls.applicability.changed",
            target=Target("controls.applicability", risk_tier, f"{risk_tier} risk tier"),
            before={"required": before},
            after={"required": after},
            reason=reason,
        )
    return after


IMPLEMENTATION_FIELDS = (
    "status",
    "owner",
    "implementation",
    "justification",
    "last_reviewed_at",
    "next_review_at",
)


def _implementation_snapshot(impl: ControlImplementation) -> dict[str, Any]:
    return {
        "status": impl.status,
        "owner": impl.owner.username if impl.owner else None,
        "implementation": impl.implementation,
        "justification": impl.justification,
        "last_reviewed_at": impl.last_reviewed_at,
        "next_review_at": impl.next_review_at,
    }


def _implementation_target(impl: ControlImplementation) -> Target:
    return Target(
        "controls.implementation",
        f"{impl.system.slug}:{impl.subcategory.code}",
        f"{impl.system.name} · {impl.subcategory.code}",
    )


def control_implementation_update(
    *,
    actor: Actor,
    system: AISystem,
    subcategory: Subcategory,
    reason: str,
    **changes: Any,
) -> ControlImplementation:
    """Change how a system meets a subcategory. Every change needs a reason."""
    unknown = set(changes) - set(IMPLEMENTATION_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if not reason.strip():
        raise ValidationError({"reason": ["A reason is required to change a control."]})
    if system.archived_at is not None:
        raise Conflict(f"{system.slug} is archived; its controls cannot change.")
    if (
        "owner" in changes
        and changes["owner"] is not None
        and not isinstance(changes["owner"], User)
    ):
        raise TypeError("owner must be a User")
    with transaction.atomic():
        impl, _ = ControlImplementation.objects.select_for_update().get_or_create(
            system=system, subcategory=subcategory
        )
        before = _implementation_snapshot(impl)
        for field, value in changes.items():
            # Text fields hold "" rather than NULL; dates and the owner may be cleared to None.
            text_field = field in ("implementation", "justification")
            setattr(impl, field, "" if value is None and text_field else value)
        if impl.status == ControlStatus.NOT_APPLICABLE and not impl.justification.strip():
            raise ValidationError({"justification": ["Not applicable needs a justification."]})
        if (
            impl.last_reviewed_at
            and impl.next_review_at
            and impl.next_review_at < impl.last_reviewed_at
        ):
            raise ValidationError({"next_review_at": ["The next review comes after the last."]})
        impl.full_clean(exclude=["system", "subcategory", "owner"])
        after = _implementation_snapshot(impl)
        if after == before:
            return impl
        impl.save()
        audit_record(
            actor=actor,
            action="controls.implementation.status_changed"
            if after["status"] != before["status"]
            else "controls.implementation.updated",
            target=_implementation_target(impl),
            before=before,
            after=after,
            reason=reason,
        )
    return impl


EVIDENCE_ALLOWED_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".svg": "image/svg+xml",  # served back as an opaque attachment, like .html
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _linked_object_exists(object_type: str, object_id: str) -> bool:
    """Objects evidence may point at. Approvals and incidents join this list as those parts of
    the product arrive."""
    from governance.audit.models import AuditEvent
    from governance.inventory.models import Dataset, ModelVersion

    if object_type == "audit.event":
        # ASCII digits within a bigint: "²" passes isdigit() but not int().
        if not (object_id.isascii() and object_id.isdigit() and len(object_id) <= 18):
            return False
        return AuditEvent.objects.filter(sequence=int(object_id)).exists()
    if object_type == "inventory.modelversion":
        slug, _, version = object_id.partition("@")
        return ModelVersion.objects.filter(system__slug=slug, version=version).exists()
    if object_type == "inventory.dataset":
        return Dataset.objects.filter(slug=object_id).exists()
    if object_type == "policy.decision":
        from governance.policy.models import Decision

        try:
            return Decision.objects.filter(decision_id=uuid.UUID(object_id)).exists()
        except ValueError:
            return False
    raise ValidationError(
        {"object_type": [f"Unknown object type {object_type!r}; use {', '.join(LINKABLE_TYPES)}."]}
    )


LINKABLE_TYPES = ("audit.event", "inventory.modelversion", "inventory.dataset", "policy.decision")


def _evidence_record(
    *, actor: Actor, impl: ControlImplementation, evidence: Evidence, reason: str
) -> Evidence:
    evidence.implementation = impl
    evidence.added_by = actor.label
    evidence.full_clean(exclude=["implementation"])
    evidence.save()
    audit_record(
        actor=actor,
        action="controls.evidence.added",
        target=_implementation_target(impl),
        after={
            "evidence_id": evidence.pk,
            "kind": evidence.kind,
            "title": evidence.title,
            "sha256": evidence.sha256,
            "size": evidence.size,
            "url": evidence.url,
            "object": f"{evidence.object_type}:{evidence.object_id}"
            if evidence.object_type
            else "",
        },
        reason=reason,
    )
    return evidence


def evidence_add(
    *,
    actor: Actor,
    system: AISystem,
    subcategory: Subcategory,
    title: str,
    reason: str = "",
    upload: UploadedFile | None = None,
    url: str = "",
    object_type: str = "",
    object_id: str = "",
) -> Evidence:
    """Attach one piece of evidence: a file (hashed, size-capped, type-allowlisted), a URL, or
    a link to an object in this product."""
    given = [bool(upload), bool(url), bool(object_type or object_id)]
    if sum(given) != 1:
        raise ValidationError("Give exactly one of: a file, a URL, or an object link.")
    if not title.strip():
        raise ValidationError({"title": ["A title is required."]})
    evidence = Evidence(title=title.strip())
    if upload is not None:
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in EVIDENCE_ALLOWED_TYPES:
            allowed = ", ".join(sorted(EVIDENCE_ALLOWED_TYPES))
            raise ValidationError(
                {"file": [f"{suffix or 'This'} files are not accepted ({allowed})."]}
            )
        limit = settings.EVIDENCE_MAX_BYTES
        if upload.size > limit:
            message = f"The file is {upload.size} bytes; the limit is {limit} bytes."
            raise ValidationError({"file": [message]})
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        evidence.kind = EvidenceKind.FILE
        evidence.sha256 = digest.hexdigest()
        evidence.size = upload.size
        evidence.content_type = EVIDENCE_ALLOWED_TYPES[suffix]
        evidence.file = upload
    elif url:
        evidence.kind, evidence.url = EvidenceKind.URL, url
    else:
        if not (object_type and object_id):
            raise ValidationError({"object_id": ["An object link needs a type and an id."]})
        if not _linked_object_exists(object_type, object_id):
            raise ValidationError({"object_id": [f"No {object_type} {object_id!r}."]})
        evidence.kind = EvidenceKind.OBJECT
        evidence.object_type, evidence.object_id = object_type, object_id
    with transaction.atomic():
        impl, _ = ControlImplementation.objects.select_for_update().get_or_create(
            system=system, subcategory=subcategory
        )
        return _evidence_record(actor=actor, impl=impl, evidence=evidence, reason=reason)


def review_due(today: date, impl: ControlImplementation) -> bool:
    return impl.next_review_at is not None and impl.next_review_at < today
