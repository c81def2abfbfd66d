"""The starter applicability profile: which subcategories each risk tier must implement.

Admins edit it afterwards (Controls → Applicability); these defaults are written only for a tier
that has no requirements yet, so reloading never overwrites an admin's choices.
"""

ALL = "*"

# Category codes (or ALL) per tier. High and critical systems answer to the whole framework;
# lower tiers to the governance basics and the categories that frame and track risk.
DEFAULT_PROFILE: dict[str, list[str]] = {
    "critical": [ALL],
    "high": [ALL],
    "medium": [
        "GOVERN 1",
        "GOVERN 2",
        "GOVERN 4",
        "MAP 1",
        "MAP 2",
        "MAP 3",
        "MAP 5",
        "MEASURE 1",
        "MEASURE 2",
        "MANAGE 1",
        "MANAGE 4",
    ],
    "low": ["GOVERN 1", "MAP 1", "MEASURE 1", "MANAGE 4"],
}
