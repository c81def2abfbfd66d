"""Template context every page needs: the navigation the signed-in user may see."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from governance.accounts.permissions import has_perm
from governance.core.navigation import SECTIONS


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": [], "actor_key": ""}
    return {
        # How services record this person (Actor kind:id), e.g. who asked for a release.
        "actor_key": f"user:{user.pk}",
        "nav_sections": [
            {
                "label": s.label,
                "url": reverse(s.url_name),
                "active": request.path.startswith(s.active_prefix),
            }
            for s in SECTIONS
            if has_perm(user, s.permission)
        ],
    }
