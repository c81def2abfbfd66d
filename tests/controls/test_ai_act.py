"""The EU AI Act beside the NIST AI RMF: the catalog and crosswalk, classification with
reasons, obligations that follow from it, evidence counted for both frameworks, coverage per
framework, and the deployment policy."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from governance.accounts.models import Role
from governance.audit.models import AuditEvent
from governance.controls.aiact import FRAMEWORK_SLUG, Answers
from governance.controls.classifications import (
    ai_act_classify,
    applicable_obligations,
    crosswalk_set,
)
from governance.controls.coverage import coverage_for
from governance.controls.models import AIActClassification, CrosswalkLink, Framework, Subcategory
from governance.controls.selectors import ai_act_policy_facts, crosswalk_of
from governance.controls.services import control_implementation_update, evidence_add
from governance.core.actor import Actor
from governance.core.errors import Conflict
from governance.inventory.services import ai_system_archive, ai_system_create

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("tests")
ARTICLES = [
    "Art. 9", "Art. 10", "Art. 11", "Art. 12", "Art. 13", "Art. 14", "Art. 15", "Art. 17",
    "Art. 43", "Art. 49", "Art. 72", "Art. 73", "Art. 26", "Art. 27", "Art. 50(1)",
    "Art. 50(2)", "Art. 50(3)", "Art. 50(4)", "Art. 53", "Art. 55",
]  # fmt: skip
PROVIDER_HIGH_RISK = [
    "Art. 9", "Art. 10", "Art. 11", "Art. 12", "Art. 13", "Art. 14", "Art. 15", "Art. 17",
    "Art. 43", "Art. 49", "Art. 72", "Art. 73",
]  # fmt: skip
CREDIT = Answers(annex_iii_area="5b", role="provider")


@pytest.fixture
def catalogs() -> None:
    call_command("load_catalog", verbosity=0)


@pytest.fixture
def system(catalogs, make_user):
    return ai_system_create(
        actor=ACTOR,
        slug="credit-risk",
        name="Credit risk scoring",
        owner=make_user(Role.REQUESTER),
        risk_tier="high",
    )


def sub(code: str) -> Subcategory:
    return Subcategory.objects.get(code=code)


def test_load_catalog_adds_the_ai_act_with_articles_roles_and_our_crosswalk(catalogs):
    framework = Framework.objects.get(slug=FRAMEWORK_SLUG)
    assert framework.applicability == "classification"
    codes = list(
        Subcategory.objects.filter(category__function__framework=framework).values_list(
            "code", flat=True
        )
    )
    assert sorted(codes) == sorted(ARTICLES)
    assert sub("Art. 26").applies_to == {"roles": ["deployer"], "when": ["high_risk"]}
    assert {s.code for s in crosswalk_of(subcategory=sub("Art. 9"))} >= {"MANAGE 1.1", "MAP 5.1"}
    # Both directions: the NIST subcategory lists the obligations it evidences.
    assert "Art. 73" in {s.code for s in crosswalk_of(subcategory=sub("MANAGE 4.3"))}
    # NIST stays the default and unchanged.
    assert (
        Subcategory.objects.filter(category__function__framework__slug="nist-ai-rmf-1.0").count()
        == 72
    )


def test_reloading_keeps_an_admins_crosswalk_edit(catalogs):
    crosswalk_set(
        actor=ACTOR, source=sub("Art. 12"), target_codes=["MEASURE 2.4"], reason="narrower"
    )
    links = CrosswalkLink.objects.count()
    call_command("load_catalog", verbosity=0)
    assert [s.code for s in crosswalk_of(subcategory=sub("Art. 12"))] == ["MEASURE 2.4"]
    assert CrosswalkLink.objects.count() == links


@pytest.mark.parametrize(
    ("answers", "risk_class", "obligations"),
    [
        (CREDIT, "high_risk", PROVIDER_HIGH_RISK),
        (
            Answers(annex_iii_area="5b", role="provider_and_deployer"),
            "high_risk",
            [*PROVIDER_HIGH_RISK[:10], "Art. 72", "Art. 73", "Art. 26", "Art. 27"],
        ),
        (Answers(annex_iii_area="4", role="deployer"), "high_risk", ["Art. 26"]),
        (
            Answers(annex_iii_area="4", role="deployer", public_service_deployer=True),
            "high_risk",
            ["Art. 26", "Art. 27"],
        ),
        (Answers(annex_i_product=True, role="provider"), "high_risk", PROVIDER_HIGH_RISK),
        (
            Answers(prohibited_practice="5.1.c", annex_iii_area="5a", role="provider"),
            "prohibited",
            [],
        ),
        (
            Answers(transparency=("interacts", "deep_fake"), role="provider"),
            "limited_risk",
            ["Art. 50(1)"],
        ),
        (
            Answers(transparency=("interacts", "deep_fake"), role="provider_and_deployer"),
            "limited_risk",
            ["Art. 50(1)", "Art. 50(4)"],
        ),
        (
            Answers(gpai_model=True, gpai_systemic_risk=True, role="provider"),
            "minimal_risk",
            ["Art. 53", "Art. 55"],
        ),
        (Answers(role="deployer"), "minimal_risk", []),
    ],
)
def test_the_risk_class_and_obligations_follow_from_the_answers(
    system, answers, risk_class, obligations
):
    classification = ai_act_classify(
        actor=ACTOR, system=system, answers=answers, reasons="Assessed"
    )
    assert classification.risk_class == risk_class
    assert sorted(applicable_obligations(classification)) == sorted(obligations)


def test_classification_is_audited_with_before_after_and_reasons(system):
    ai_act_classify(
        actor=ACTOR, system=system, answers=Answers(role="provider"), reasons="First look"
    )
    ai_act_classify(actor=ACTOR, system=system, answers=CREDIT, reasons="Scores consumer credit")
    events = list(
        AuditEvent.objects.filter(action="controls.ai_act.classified").order_by("sequence")
    )
    assert len(events) == 2
    assert events[0].before is None
    assert events[1].before["risk_class"] == "minimal_risk"
    assert events[1].after["risk_class"] == "high_risk"
    assert events[1].after["annex_iii_area"] == "5b"
    assert "Art. 43" in events[1].after["obligations"]
    assert events[1].reason == "Scores consumer credit"
    assert AIActClassification.objects.get().reasons == "Scores consumer credit"


@pytest.mark.parametrize(
    ("answers", "reasons", "field"),
    [
        (CREDIT, "  ", "reasons"),
        (Answers(annex_iii_area="9", role="provider"), "r", "annex_iii_area"),
        (Answers(prohibited_practice="5.1.z", role="provider"), "r", "prohibited_practice"),
        (Answers(transparency=("mind_reading",), role="provider"), "r", "transparency"),
        (Answers(gpai_systemic_risk=True, role="provider"), "r", "gpai_systemic_risk"),
        (Answers(role="importer"), "r", "role"),
    ],
)
def test_bad_classifications_change_nothing(system, answers, reasons, field):
    ai_act_classify(
        actor=ACTOR, system=system, answers=Answers(role="deployer"), reasons="Baseline"
    )
    with pytest.raises(ValidationError) as caught:
        ai_act_classify(actor=ACTOR, system=system, answers=answers, reasons=reasons)
    assert field in caught.value.message_dict
    assert AIActClassification.objects.get().risk_class == "minimal_risk"
    assert AuditEvent.objects.filter(action="controls.ai_act.classified").count() == 1


def test_an_archived_system_cannot_be_classified(system):
    system = ai_system_archive(actor=ACTOR, system=system, reason="retired")
    with pytest.raises(Conflict, match="archived"):
        ai_act_classify(actor=ACTOR, system=system, answers=CREDIT, reasons="late")
    assert not AIActClassification.objects.exists()


def test_nist_evidence_counts_toward_the_mapped_obligations_and_back(system):
    ai_act_classify(actor=ACTOR, system=system, answers=CREDIT, reasons="credit scoring")
    evidence_add(
        actor=ACTOR,
        system=system,
        subcategory=sub("MANAGE 4.3"),
        title="Incident response plan",
        url="https://wiki.example.com/irp",
    )
    framework = Framework.objects.get(slug=FRAMEWORK_SLUG)
    coverage = coverage_for([system], framework=framework)[system.pk]
    rows = {row.code: row for row in coverage.rows}
    assert rows["Art. 73"].supporting == ["MANAGE 4.3"] and rows["Art. 73"].required
    assert rows["Art. 9"].supporting == []
    assert coverage.total.required == len(PROVIDER_HIGH_RISK)
    assert coverage.total.supported == 1  # Art. 73; Art. 55 maps too but does not bind
    assert "Art. 73" in coverage.gaps  # supporting evidence does not implement the obligation
    # And the other way round: evidence on the obligation supports the NIST subcategory.
    evidence_add(
        actor=ACTOR,
        system=system,
        subcategory=sub("Art. 12"),
        title="Logging design",
        url="https://wiki.example.com/logs",
    )
    nist = {row.code: row for row in coverage_for([system])[system.pk].rows}
    assert nist["MEASURE 2.4"].supporting == ["Art. 12"]
    assert len(nist) == 72


def test_crosswalk_edits_need_a_reason_and_known_ids_and_are_audited(catalogs):
    before = [s.code for s in crosswalk_of(subcategory=sub("Art. 14"))]
    with pytest.raises(ValidationError) as caught:
        crosswalk_set(actor=ACTOR, source=sub("Art. 14"), target_codes=["MAP 3.5"], reason="")
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        crosswalk_set(
            actor=ACTOR, source=sub("Art. 14"), target_codes=["MAP 9.9", "Art. 9"], reason="r"
        )
    assert "MAP 9.9" in str(caught.value) and "Art. 9" in str(caught.value)  # same framework
    assert [s.code for s in crosswalk_of(subcategory=sub("Art. 14"))] == before
    # Edited from the NIST side: the link keeps its obligation -> subcategory direction.
    crosswalk_set(actor=ACTOR, source=sub("MAP 3.5"), target_codes=["Art. 26"], reason="oversight")
    assert set(
        CrosswalkLink.objects.filter(target=sub("MAP 3.5")).values_list("source__code", flat=True)
    ) == {"Art. 26"}
    assert "MAP 3.5" not in {s.code for s in crosswalk_of(subcategory=sub("Art. 14"))}
    event = AuditEvent.objects.get(action="controls.crosswalk.changed")
    assert (event.before, event.after, event.reason) == (
        {"maps_to": ["Art. 14"]},
        {"maps_to": ["Art. 26"]},
        "oversight",
    )


def test_the_policy_input_carries_the_classification_and_binding_obligations(system):
    assert ai_act_policy_facts(system=system) == {"classified": False}
    ai_act_classify(actor=ACTOR, system=system, answers=CREDIT, reasons="credit scoring")
    control_implementation_update(
        actor=ACTOR, system=system, subcategory=sub("Art. 43"), reason="Annex VI done",
        status="implemented",
    )  # fmt: skip
    facts = ai_act_policy_facts(system=system)
    assert facts["risk_class"] == "high_risk" and facts["role"] == "provider"
    assert facts["obligations"]["Art. 43"] == "implemented"
    assert facts["obligations"]["Art. 49"] == "not_started"
    assert "Art. 26" not in facts["obligations"]
