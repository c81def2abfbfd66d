"""EU AI Act pages: a system's classification (the guided questions) with the obligations that
bind it, and admin edits of the crosswalk."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.selectors import audit_events_for
from governance.controls.aiact import (
    ANNEX_III_AREAS,
    FRAMEWORK_SLUG,
    PROHIBITED_PRACTICES,
    TRANSPARENCY_SITUATIONS,
    Answers,
)
from governance.controls.classifications import ai_act_classify, crosswalk_set
from governance.controls.forms import AIActClassificationForm, CrosswalkForm
from governance.controls.selectors import (
    ai_act_classification_for,
    framework_get,
    subcategory_get,
    system_coverage,
)
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.form_errors import form_add_service_errors
from governance.inventory.selectors import ai_system_get


class AIActView(PermissionRequiredMixin, View):
    """Classification, reasons, the obligations that follow, and the guided form (admins)."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "POST": Perm.CONTROLS_CONFIGURE}

    def _render(
        self, request: HttpRequest, slug: str, form: AIActClassificationForm | None = None
    ) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        classification = ai_act_classification_for(system=system)
        framework = framework_get(principal=request.user, slug=FRAMEWORK_SLUG)
        coverage = system_coverage(principal=request.user, system=system, framework=framework)
        history = audit_events_for(
            principal=request.user, target_type="inventory.aisystem", target_id=system.slug
        )
        initial = {}
        if classification is not None:
            initial = {
                name: getattr(classification, name) for name in AIActClassificationForm.base_fields
            }
        context = {
            "system": system,
            "classification": classification,
            "practice": PROHIBITED_PRACTICES.get(
                getattr(classification, "prohibited_practice", "")
            ),
            "area": ANNEX_III_AREAS.get(getattr(classification, "annex_iii_area", "")),
            "situations": [
                TRANSPARENCY_SITUATIONS[s] for s in getattr(classification, "transparency", [])
            ],
            "coverage": coverage,
            "binding": [row for row in coverage.rows if row.required],
            "form": form or AIActClassificationForm(initial=initial),
            "can_configure": has_perm(request.user, Perm.CONTROLS_CONFIGURE),
            "history": None
            if history is None
            else [e for e in history if e.action == "controls.ai_act.classified"],
        }
        status = 400 if form is not None and form.errors else 200
        return render(request, "controls/ai_act.html", context, status=status)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        return self._render(request, slug)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        form = AIActClassificationForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reasons = data.pop("reasons")
            data["transparency"] = tuple(data["transparency"])
            try:
                classification = ai_act_classify(
                    actor=Actor.from_request(request),
                    system=system,
                    answers=Answers(**data),
                    reasons=reasons,
                )
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"{system.name} is classified {classification.get_risk_class_display()}.",
                )
                return redirect(request.path)
        return self._render(request, slug, form=form)


class CrosswalkEditView(PermissionRequiredMixin, View):
    """Replace what one control maps to in the other framework, with a reason."""

    required_permission = Perm.CONTROLS_CONFIGURE

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        sub = subcategory_get(principal=request.user, code=code)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = "/controls/"
        form = CrosswalkForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give the control ids and a reason.")
            return redirect(back)
        codes = [c.strip() for c in form.cleaned_data["targets"].splitlines() if c.strip()]
        try:
            after = crosswalk_set(
                actor=Actor.from_request(request),
                source=sub,
                target_codes=codes,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{sub.code} now maps to {', '.join(after) or 'nothing'}.")
        return redirect(back)
