"""The starter severity levels with AI-specific criteria; admins edit them afterwards."""

from governance.incidents.models import SeverityLevel

# (rank, code, name, harm, exposure, scale, response)
STARTER_LEVELS = [
    (
        1,
        "SEV1",
        "Critical",
        "Serious harm to people (safety, discrimination in consequential decisions, legal "
        "rights) or major financial or legal exposure, happening now.",
        "Restricted or personal data disclosed by the model or its tools; automated decisions "
        "taken without the required human oversight.",
        "Many users or decisions, a production system, or several systems at once.",
        "Page the incident commander now; stop the harm within minutes (kill switch first, "
        "diagnose after).",
    ),
    (
        2,
        "SEV2",
        "Major",
        "Likely harm: wrong or unsafe outputs reaching users, biased outcomes, unsafe tool "
        "actions.",
        "Confidential data at risk, prompt injection or jailbreak confirmed in production.",
        "A significant share of one production system's traffic or decisions.",
        "Page the on-call team; mitigate within the hour.",
    ),
    (
        3,
        "SEV3",
        "Minor",
        "Degraded quality without direct harm: drift, higher refusal or hallucination rates.",
        "No sensitive data exposed; internal users only.",
        "Limited: a feature, a segment, or a staging environment.",
        "Handle in working hours; mitigate within a day.",
    ),
    (
        4,
        "SEV4",
        "Low",
        "No user-facing harm; a near miss or a control gap found.",
        "None.",
        "A single case, or no production traffic.",
        "Track and fix in the backlog.",
    ),
]


def severity_levels_ensure() -> int:
    """Create the missing starter levels (never overwrites an admin's edits); returns how many
    were created. The migration creates them; this restores them after a flush (tests)."""
    created = 0
    for rank, code, name, harm, exposure, scale, response in STARTER_LEVELS:
        _, was_created = SeverityLevel.objects.get_or_create(
            code=code,
            defaults={
                "rank": rank,
                "name": name,
                "harm": harm,
                "exposure": exposure,
                "scale": scale,
                "response": response,
            },
        )
        created += was_created
    return created
