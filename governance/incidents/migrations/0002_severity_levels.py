"""The starter severity levels (a frozen copy of governance/incidents/severity.py)."""

from django.db import migrations

LEVELS = [
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


def create_levels(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    for rank, code, name, harm, exposure, scale, response in LEVELS:
        SeverityLevel.objects.get_or_create(
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


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(create_levels, migrations.RunPython.noop)]
