"""The kill switch panel and each switch's card (polled for live state) and flip form."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.incidents.models import OPEN_STATUSES, Incident
from governance.incidents.views import _back, error_text, form_errors
from governance.runtime.forms import FlipForm, KillSwitchForm
from governance.runtime.models import KillSwitch
from governance.runtime.selectors import (
    kill_switch_get,
    kill_switch_get_for_flip,
    kill_switch_list,
    runtime_control_list,
)
from governance.runtime.services import (
    kill_switch_attach_incident,
    kill_switch_create,
    kill_switch_engage,
    kill_switch_release,
    kill_switch_release_cancel,
)

# --- Kill switches --------------------------------------------------------------------------


def _requested_by_me(request: HttpRequest, switch: KillSwitch) -> bool:
    actor = Actor.from_request(request)
    return (
        switch.release_pending
        and switch.release_requested_by_id == (f"{actor.kind}:{actor.id}"[:64])
    )


def _card_context(request: HttpRequest, switch: KillSwitch, incident_number: Any = None) -> dict:
    can_flip = has_perm(request.user, Perm.KILLSWITCHES_FLIP)
    attachable = []
    if can_flip and switch.is_engaged and switch.incident_id is None:
        attachable = list(
            Incident.objects.filter(status__in=OPEN_STATUSES).order_by("-opened_at")[:20]
        )
    return {
        "switch": switch,
        "can_flip": can_flip,
        "incident_number": incident_number or "",
        "next": request.GET.get("next") or request.path,
        "attachable": attachable,
    }


class KillSwitchPanelView(PermissionRequiredMixin, View):
    required_permission = {"GET": Perm.KILLSWITCHES_READ, "POST": Perm.KILLSWITCHES_MANAGE}

    def _render(self, request: HttpRequest, form: KillSwitchForm, status: int = 200) -> Any:
        system = request.GET.get("system") or None
        query = request.GET.get("q", "").strip()
        switches = kill_switch_list(principal=request.user, system=system)
        if query:
            switches = switches.filter(
                Q(key__icontains=query)
                | Q(system__name__icontains=query)
                | Q(system__slug__icontains=query)
                | Q(feature__icontains=query)
            )
        cards = [_card_context(request, s) for s in switches.order_by("system__name", "key")]
        return render(
            request,
            "runtime/kill_switch_panel.html",
            {
                "cards": cards,
                "query": query,
                "system": system or "",
                "controls": runtime_control_list(principal=request.user, system=system),
                "form": form,
                "can_flip": has_perm(request.user, Perm.KILLSWITCHES_FLIP),
                "can_manage": has_perm(request.user, Perm.KILLSWITCHES_MANAGE),
                "next": request.get_full_path(),
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, KillSwitchForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = KillSwitchForm(request.POST)
        if form.is_valid():
            try:
                switch = kill_switch_create(actor=Actor.from_request(request), **form.cleaned_data)
            except (DomainError, ValidationError) as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, f"Kill switch {switch.key} created (released).")
                return redirect("incidents:kill-switch-panel")
        return self._render(request, form, status=400)


class KillSwitchCardView(PermissionRequiredMixin, View):
    """One switch's card, polled by the panel and the incident page for live state."""

    required_permission = Perm.KILLSWITCHES_READ

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        switch = kill_switch_get(principal=request.user, key=key)
        return render(
            request,
            "runtime/htmx/kill_switch_card.html",
            _card_context(request, switch, request.GET.get("incident")),
        )


class KillSwitchFlipView(PermissionRequiredMixin, View):
    required_permission = Perm.KILLSWITCHES_FLIP

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        switch = kill_switch_get_for_flip(principal=request.user, key=key)
        form = FlipForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return _back(request, reverse("incidents:kill-switch-panel"))
        data = form.cleaned_data
        actor = Actor.from_request(request)
        incident = None
        if data.get("incident"):
            incident = get_object_or_404(Incident, number=data["incident"])
        try:
            if data["action"] == "engage":
                switch = kill_switch_engage(
                    actor=actor, switch=switch, reason=data["reason"], incident=incident
                )
                messages.success(request, f"{switch.key} ENGAGED.")
            else:
                switch = kill_switch_release(actor=actor, switch=switch, reason=data["reason"])
                if switch.is_engaged:
                    messages.warning(
                        request,
                        f"Release of {switch.key} requested: a second person must confirm.",
                    )
                else:
                    messages.success(request, f"{switch.key} released.")
        except (DomainError, ValidationError) as exc:
            messages.error(request, f"{switch.key}: {error_text(exc)} Nothing was changed.")
        return _back(request, reverse("incidents:kill-switch-panel"))


class KillSwitchAttachView(PermissionRequiredMixin, View):
    """Tie a switch engaged outside an incident to an open incident."""

    required_permission = Perm.KILLSWITCHES_FLIP

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        switch = kill_switch_get_for_flip(principal=request.user, key=key)
        number = request.POST.get("incident", "")
        incident = Incident.objects.filter(number=number).first() if number.isdigit() else None
        if incident is None:
            messages.error(request, f"{switch.key}: choose the incident to attach it to.")
        else:
            try:
                kill_switch_attach_incident(
                    actor=Actor.from_request(request), switch=switch, incident=incident
                )
            except (DomainError, ValidationError) as exc:
                messages.error(request, f"{switch.key}: {error_text(exc)} Nothing was changed.")
            else:
                messages.success(request, f"{switch.key} is now part of {incident.ref}.")
        return _back(request, reverse("incidents:kill-switch-panel"))


class KillSwitchCancelReleaseView(PermissionRequiredMixin, View):
    """The person who asked for a two-person release takes it back."""

    required_permission = Perm.KILLSWITCHES_FLIP

    def post(self, request: HttpRequest, key: str) -> HttpResponse:
        switch = kill_switch_get_for_flip(principal=request.user, key=key)
        try:
            kill_switch_release_cancel(actor=Actor.from_request(request), switch=switch)
        except (DomainError, ValidationError) as exc:
            messages.error(request, f"{switch.key}: {error_text(exc)} Nothing was changed.")
        else:
            messages.success(
                request, f"Release request of {switch.key} cancelled: it stays engaged."
            )
        return _back(request, reverse("incidents:kill-switch-panel"))
