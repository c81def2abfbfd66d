"""The two-person rule holds through tokens: a token counts as the person who created it."""

import pytest
from rest_framework.test import APIClient

from governance.accounts.models import Role
from governance.accounts.permissions import Perm
from governance.audit.models import AuditEvent
from governance.core.actor import Actor
from governance.runtime.models import KillSwitch
from governance.runtime.services import (
    SecondPersonRequired,
    kill_switch_engage,
    kill_switch_release,
)

pytestmark = pytest.mark.django_db


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _engage(switch, incident, commander) -> None:
    kill_switch_engage(
        actor=Actor.for_user(commander), switch=switch, reason="leak", incident=incident
    )


def test_the_creator_of_the_token_that_asked_cannot_confirm(
    switch, incident, commander, admin_user, make_token, client_for
):
    _engage(switch, incident, commander)
    _, secret = make_token([Perm.KILLSWITCHES_FLIP], name="pager-bot")  # created by admin_user
    path = f"/api/v1/kill-switches/{switch.key}/release"
    asked = _bearer(secret).post(path, {"reason": "pager says fixed"}, format="json")
    assert asked.status_code == 202
    creator = APIClient()
    creator.force_login(admin_user)
    same_person = creator.post(path, {"reason": "confirm"}, format="json")
    assert same_person.status_code == 409
    assert same_person.json()["type"] == "urn:governance:problem:second-person-required"
    assert KillSwitch.objects.get().state == "engaged"
    refused = AuditEvent.objects.filter(action="incidents.killswitch.release_refused").last()
    assert refused.actor_name == admin_user.username
    # Someone else confirms.
    other = client_for(Role.APPROVER).post(path, {"reason": "verified"}, format="json")
    assert other.status_code == 200
    assert KillSwitch.objects.get().state == "released"


def test_a_person_cannot_confirm_through_their_own_token(
    switch, incident, commander, admin_user, make_token
):
    _engage(switch, incident, commander)
    kill_switch_release(actor=Actor.for_user(admin_user), switch=switch, reason="looks fixed")
    token, _ = make_token([Perm.KILLSWITCHES_FLIP], name="admin-bot")
    with pytest.raises(SecondPersonRequired, match="you requested"):
        kill_switch_release(actor=Actor.for_token(token), switch=switch, reason="confirm")
    assert KillSwitch.objects.get().state == "engaged"


def test_a_request_stored_under_a_token_id_still_counts_as_its_creator(
    switch, incident, commander, admin_user, make_token
):
    """Release requests recorded before this rule stored the token's own id."""
    _engage(switch, incident, commander)
    token, _ = make_token([Perm.KILLSWITCHES_FLIP], name="old-bot")
    switch.refresh_from_db()
    kill_switch_release(actor=Actor.for_token(token), switch=switch, reason="fixed")
    KillSwitch.objects.update(release_requested_by_id=f"token:{token.public_id}")
    with pytest.raises(SecondPersonRequired):
        kill_switch_release(actor=Actor.for_user(admin_user), switch=switch, reason="confirm")


def test_actor_person_key_maps_a_token_to_its_creator(make_token, admin_user):
    token, _ = make_token([Perm.KILLSWITCHES_READ])
    assert Actor.for_token(token).person_key == f"user:{admin_user.pk}"
    assert Actor.for_user(admin_user).person_key == f"user:{admin_user.pk}"
