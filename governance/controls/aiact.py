"""The EU AI Act's classification questions and what follows from the answers: the risk class,
and which obligations bind the organisation in its role (the counterpart of the NIST AI RMF's
tier-based applicability profile). Short descriptions are ours; article numbers are the
Regulation's (EU) 2024/1689."""

from dataclasses import dataclass
from typing import Any

from governance.controls.models import AIActRiskClass, AIActRole

FRAMEWORK_SLUG = "eu-ai-act-2024-1689"

# Art. 5(1): the prohibited practices.
PROHIBITED_PRACTICES: dict[str, str] = {
    "5.1.a": "Subliminal, manipulative or deceptive techniques distorting behaviour, causing harm",
    "5.1.b": "Exploiting vulnerabilities of age, disability or a social or economic situation",
    "5.1.c": "Social scoring leading to detrimental or unfavourable treatment",
    "5.1.d": "Predicting criminal offences based solely on profiling or personality traits",
    "5.1.e": "Untargeted scraping of facial images to build facial recognition databases",
    "5.1.f": "Emotion recognition in the workplace or in education (outside medical or safety use)",
    "5.1.g": "Biometric categorisation inferring race, political opinions, religion, sex life…",
    "5.1.h": "Real-time remote biometric identification in public spaces for law enforcement",
}

# Annex III: the high-risk areas (point 5 split, since Art. 27 names 5(b) and 5(c)).
ANNEX_III_AREAS: dict[str, str] = {
    "1": "Biometrics (remote identification, categorisation, emotion recognition)",
    "2": "Critical infrastructure (safety components: digital infrastructure, traffic, utilities)",
    "3": "Education and vocational training (admission, assessment, proctoring)",
    "4": "Employment, workers' management and access to self-employment",
    "5a": "Essential public services and benefits: eligibility",
    "5b": "Creditworthiness and credit scoring of natural persons",
    "5c": "Risk assessment and pricing in life and health insurance",
    "5d": "Emergency calls: evaluation, dispatch and triage",
    "6": "Law enforcement",
    "7": "Migration, asylum and border control",
    "8": "Administration of justice and democratic processes",
}

# Art. 50: situations that carry transparency obligations, whatever the risk class.
TRANSPARENCY_SITUATIONS: dict[str, str] = {
    "interacts": "Interacts directly with natural persons (e.g. a chatbot)",
    "synthetic_content": "Generates synthetic audio, image, video or text",
    "emotion_or_biometric": "Recognises emotions or categorises people biometrically",
    "deep_fake": "Produces deep fakes, or text published to inform the public",
}


@dataclass(frozen=True)
class Answers:
    """The guided form's answers."""

    prohibited_practice: str = ""
    annex_i_product: bool = False
    annex_iii_area: str = ""
    transparency: tuple[str, ...] = ()
    gpai_model: bool = False
    gpai_systemic_risk: bool = False
    role: str = AIActRole.PROVIDER
    public_service_deployer: bool = False


def risk_class_for(answers: Answers) -> str:
    """Art. 5 first, then Art. 6 (Annex I product or Annex III area), then Art. 50."""
    if answers.prohibited_practice:
        return AIActRiskClass.PROHIBITED
    if answers.annex_i_product or answers.annex_iii_area:
        return AIActRiskClass.HIGH_RISK
    if answers.transparency:
        return AIActRiskClass.LIMITED_RISK
    return AIActRiskClass.MINIMAL_RISK


def roles_of(role: str) -> set[str]:
    if role == AIActRole.PROVIDER_AND_DEPLOYER:
        return {AIActRole.PROVIDER, AIActRole.DEPLOYER}
    return {role}


def conditions_of(classification: Any) -> set[str]:
    """The conditions an obligation's ``applies_to.when`` is matched against."""
    conditions: set[str] = set()
    if classification.risk_class == AIActRiskClass.HIGH_RISK:
        conditions.add("high_risk")
        if classification.public_service_deployer or classification.annex_iii_area in (
            "5b",
            "5c",
        ):
            conditions.add("fundamental_rights_assessment")
    conditions |= {f"transparency:{item}" for item in classification.transparency}
    if classification.gpai_model:
        conditions.add("gpai")
    if classification.gpai_systemic_risk:
        conditions.add("gpai_systemic")
    return conditions


def obligation_applies(applies_to: dict[str, Any], classification: Any) -> bool:
    """An obligation binds when the organisation holds one of its roles and the system meets
    one of its conditions. A prohibited system has no obligations to meet: it may not be used."""
    if classification is None or classification.risk_class == AIActRiskClass.PROHIBITED:
        return False
    roles = set(applies_to.get("roles", []))
    when = set(applies_to.get("when", []))
    return bool(roles & roles_of(classification.role)) and bool(
        when & conditions_of(classification)
    )
