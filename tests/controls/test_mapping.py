"""Control mapping: applicability by tier, status changes with reasons, evidence, coverage."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.controls.coverage import coverage_for
from governance.controls.models import (
    ControlImplementation,
    Evidence,
    GenAIAction,
    GenAIRisk,
    Subcategory,
    TierRequirement,
)
from governance.controls.services import (
    applicability_set,
    catalog_load,
    control_implementation_update,
    evidence_add,
)
from governance.core.actor import Actor
from governance.inventory.services import ai_system_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    catalog_load(actor=Actor.system("tests"))


@pytest.fixture
def owner(make_user):
    return make_user(Role.REQUESTER, username="owner")


@pytest.fixture
def actor(owner):
    return Actor.for_user(owner)


def system(owner, slug="chatbot", tier="high", **extra):
    return ai_system_create(
        actor=Actor.system("tests"),
        slug=slug,
        name=slug.title(),
        owner=owner,
        risk_tier=tier,
        **extra,
    )


def sub(code):
    return Subcategory.objects.get(code=code)


def test_genai_profile_is_loaded_and_linked(catalog):
    assert GenAIRisk.objects.count() == 12
    assert GenAIAction.objects.count() == 212
    action = GenAIAction.objects.get(code="GV-1.1-001")
    assert action.subcategory.code == "GOVERN 1.1"
    assert set(action.risks.values_list("code", flat=True)) == {
        "data-privacy",
        "harmful-bias-homogenization",
        "intellectual-property",
    }


def test_default_applicability_depends_on_tier(catalog):
    counts = {
        tier: TierRequirement.objects.filter(risk_tier=tier).count()
        for tier in ("low", "medium", "high", "critical")
    }
    assert counts["critical"] == counts["high"] == 72
    assert 0 < counts["low"] < counts["medium"] < 72


def test_reloading_keeps_an_edited_profile(catalog, actor):
    applicability_set(
        actor=actor, risk_tier="low", subcategory_codes=["GOVERN 1.1"], reason="pilot"
    )
    catalog_load(actor=Actor.system("tests"))
    assert list(
        TierRequirement.objects.filter(risk_tier="low").values_list("subcategory__code", flat=True)
    ) == ["GOVERN 1.1"]


def test_applicability_refuses_unknown_ids_and_missing_reason(catalog, actor):
    before = TierRequirement.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        applicability_set(actor=actor, risk_tier="low", subcategory_codes=["GOVERN 9.9"], reason="")
    assert {"subcategories", "reason"} <= set(excinfo.value.message_dict)
    assert TierRequirement.objects.count() == before


def test_status_change_needs_a_reason_and_is_audited(catalog, owner, actor):
    s = system(owner)
    with pytest.raises(ValidationError):
        control_implementation_update(
            actor=actor, system=s, subcategory=sub("GOVERN 1.1"), reason=" ", status="implemented"
        )
    assert not ControlImplementation.objects.exists()
    control_implementation_update(
        actor=actor,
        system=s,
        subcategory=sub("GOVERN 1.1"),
        reason="policy signed",
        status="implemented",
    )
    event = AuditEvent.objects.get(action="controls.implementation.status_changed")
    assert (event.before["status"], event.after["status"], event.reason) == (
        "not_started",
        "implemented",
        "policy signed",
    )
    assert event.target_id == "chatbot:GOVERN 1.1"


def test_not_applicable_needs_a_justification(catalog, owner, actor):
    s = system(owner)
    with pytest.raises(ValidationError) as excinfo:
        control_implementation_update(
            actor=actor, system=s, subcategory=sub("MAP 1.1"), reason="n/a", status="not_applicable"
        )
    assert "justification" in excinfo.value.message_dict
    assert not ControlImplementation.objects.exists()


def test_coverage_arithmetic(catalog, owner, actor):
    s = system(owner, tier="low")
    required = sorted(
        TierRequirement.objects.filter(risk_tier="low").values_list("subcategory__code", flat=True)
    )
    first, second, third = required[:3]
    control_implementation_update(
        actor=actor, system=s, subcategory=sub(first), reason="r", status="implemented"
    )
    control_implementation_update(
        actor=actor,
        system=s,
        subcategory=sub(second),
        reason="r",
        status="not_applicable",
        justification="no users",
    )
    control_implementation_update(
        actor=actor, system=s, subcategory=sub(third), reason="r", status="in_progress"
    )
    # Work on a subcategory the tier does not require does not count.
    control_implementation_update(
        actor=actor, system=s, subcategory=sub("MANAGE 2.1"), reason="r", status="implemented"
    )
    coverage = coverage_for([s])[s.pk]
    assert coverage.total.required == len(required)
    assert coverage.total.implemented == 1
    assert coverage.total.not_applicable == 1
    assert coverage.total.share == pytest.approx(1 / (len(required) - 1))
    assert first not in coverage.gaps and second not in coverage.gaps and third in coverage.gaps
    assert len(coverage.gaps) == len(required) - 2
    function = first.split(" ")[0]
    assert coverage.functions[function].implemented == 1


def test_evidence_file_is_hashed_and_audited(catalog, owner, actor):
    s = system(owner)
    upload = SimpleUploadedFile("model-card.pdf", b"%PDF-1.7 card", content_type="application/pdf")
    evidence = evidence_add(
        actor=actor, system=s, subcategory=sub("MAP 2.1"), title="Model card", upload=upload
    )
    import hashlib

    assert evidence.sha256 == hashlib.sha256(b"%PDF-1.7 card").hexdigest()
    assert evidence.size == 13
    event = AuditEvent.objects.get(action="controls.evidence.added")
    assert event.after["sha256"] == evidence.sha256


@pytest.mark.parametrize(
    ("name", "size", "field"),
    [("run.exe", 10, "file"), ("notes.pdf", 2048, "file")],
)
def test_disallowed_or_oversize_evidence_is_refused(
    catalog, owner, actor, settings, name, size, field
):
    settings.EVIDENCE_MAX_BYTES = 1024
    s = system(owner)
    upload = SimpleUploadedFile(name, b"x" * size)
    with pytest.raises(ValidationError) as excinfo:
        evidence_add(actor=actor, system=s, subcategory=sub("MAP 2.1"), title="x", upload=upload)
    assert field in excinfo.value.message_dict
    assert not Evidence.objects.exists()
    assert not AuditEvent.objects.filter(action="controls.evidence.added").exists()


def test_overdue_review_with_evidence_is_reported(catalog, owner, actor):
    s = system(owner)
    code = "MEASURE 2.1"
    control_implementation_update(
        actor=actor,
        system=s,
        subcategory=sub(code),
        reason="r",
        status="implemented",
        last_reviewed_at=timezone.now().date() - timedelta(days=400),
        next_review_at=timezone.now().date() - timedelta(days=35),
    )
    evidence_add(
        actor=actor, system=s, subcategory=sub(code), title="Eval", url="https://example.com/eval"
    )
    assert coverage_for([s])[s.pk].overdue == [code]


def test_coverage_query_count_does_not_grow_with_the_portfolio(
    catalog, owner, actor, django_assert_max_num_queries
):
    systems = [system(owner, slug=f"s-{i}", tier=("low", "high")[i % 2]) for i in range(15)]
    for s in systems[:5]:
        control_implementation_update(
            actor=actor, system=s, subcategory=sub("GOVERN 1.1"), reason="r", status="implemented"
        )
    with django_assert_max_num_queries(5):  # catalog, profile, implementations, evidence, crosswalk
        coverage = coverage_for(systems)
    assert len(coverage) == 15
