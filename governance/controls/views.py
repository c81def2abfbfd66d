"""Control pages: the catalog, a system's control, the portfolio, the applicability profile."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin, has_perm
from governance.audit.selectors import audit_events_for
from governance.controls.coverage import catalog_layout
from governance.controls.forms import ControlUpdateForm, EvidenceForm
from governance.controls.heatmap import share_fill
from governance.controls.models import Applicability, ControlStatus, Evidence
from governance.controls.selectors import (
    applicability_matrix,
    catalog_functions,
    framework_get,
    framework_list,
    genai_actions_for,
    implementation_for,
    is_required,
    portfolio_coverage,
    subcategory_get,
    subcategory_list,
    supporting_evidence,
)
from governance.controls.services import (
    applicability_set,
    control_implementation_update,
    evidence_add,
)
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.form_errors import form_add_service_errors
from governance.inventory.models import RiskTier
from governance.inventory.selectors import ai_system_get


class CatalogView(PermissionRequiredMixin, View):
    required_permission = Perm.CONTROLS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        framework = framework_get(principal=request.user, slug=request.GET.get("framework"))
        functions = catalog_functions(principal=request.user, framework=framework)
        context = {
            "functions": functions,
            "framework": framework,
            "frameworks": framework_list(principal=request.user),
        }
        return render(request, "controls/catalog.html", context)


class PortfolioView(PermissionRequiredMixin, View):
    """Which systems are furthest from compliance, riskiest first, and why."""

    required_permission = Perm.CONTROLS_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        portfolio = portfolio_coverage(principal=request.user)
        layout = catalog_layout()
        rows = [
            {
                "coverage": c,
                "functions": [
                    (
                        fn,
                        c.functions.get(fn),
                        share_fill(c.functions[fn].share) if fn in c.functions else "#e5e7eb",
                    )
                    for fn, _ in layout
                ],
                "fill": share_fill(c.total.share),
            }
            for c in portfolio
        ]
        return render(
            request,
            "controls/portfolio.html",
            {"rows": rows, "function_codes": [fn for fn, _ in layout]},
        )


class ControlDetailView(PermissionRequiredMixin, View):
    """One subcategory for one system: NIST text, guidance, status, evidence, history."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "POST": Perm.CONTROLS_MANAGE}

    def _context(self, request: HttpRequest, slug: str, code: str, **forms: object) -> dict:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        impl = implementation_for(system=system, subcategory=sub)
        initial = {
            "status": impl.status if impl else ControlStatus.NOT_STARTED,
            "owner": impl.owner if impl else None,
            "implementation": impl.implementation if impl else "",
            "justification": impl.justification if impl else "",
            "last_reviewed_at": impl.last_reviewed_at if impl else None,
            "next_review_at": impl.next_review_at if impl else None,
        }
        history = audit_events_for(
            principal=request.user,
            target_type="controls.implementation",
            target_id=f"{system.slug}:{sub.code}",
        )
        return {
            "system": system,
            "sub": sub,
            "impl": impl,
            "status": initial["status"],
            "status_label": ControlStatus(initial["status"]).label,
            "required": is_required(system=system, subcategory=sub),
            "genai_actions": genai_actions_for(subcategory=sub) if system.is_genai else [],
            "framework": sub.category.function.framework,
            "crosswalk": supporting_evidence(system=system, subcategory=sub),
            "can_configure": has_perm(request.user, Perm.CONTROLS_CONFIGURE),
            "update_form": forms.get("update_form") or ControlUpdateForm(initial=initial),
            "evidence_form": forms.get("evidence_form") or EvidenceForm(),
            "can_manage": has_perm(request.user, Perm.CONTROLS_MANAGE),
            "history": history,
            "review_overdue": bool(
                impl and impl.next_review_at and impl.next_review_at < timezone.now().date()
            ),
        }

    def get(self, request: HttpRequest, slug: str, code: str) -> HttpResponse:
        return render(request, "controls/control_detail.html", self._context(request, slug, code))

    def post(self, request: HttpRequest, slug: str, code: str) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        actor = Actor.from_request(request)
        if request.POST.get("form") == "evidence":
            form = EvidenceForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    evidence_add(
                        actor=actor,
                        system=system,
                        subcategory=sub,
                        title=data["title"],
                        reason=data["reason"],
                        upload=data["file"],
                        url=data["url"] or "",
                    )
                except ValidationError as exc:
                    form_add_service_errors(form, exc)
                else:
                    messages.success(request, f"Evidence “{data['title']}” recorded.")
                    return redirect(request.path)
            context = self._context(request, slug, code, evidence_form=form)
            return render(request, "controls/control_detail.html", context, status=400)
        form = ControlUpdateForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            reason = data.pop("reason")
            data["implementation"] = data["implementation"] or ""
            data["justification"] = data["justification"] or ""
            try:
                control_implementation_update(
                    actor=actor, system=system, subcategory=sub, reason=reason, **data
                )
            except (ValidationError, DomainError) as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(request, f"{sub.code} saved for {system.name}.")
                return redirect(request.path)
        context = self._context(request, slug, code, update_form=form)
        return render(request, "controls/control_detail.html", context, status=400)


class ApplicabilityView(PermissionRequiredMixin, View):
    """Which subcategories each risk tier requires; admins change it with a reason."""

    required_permission = {"GET": Perm.CONTROLS_VIEW, "POST": Perm.CONTROLS_CONFIGURE}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        tier = request.POST.get("risk_tier", "")
        codes = request.POST.getlist("required")
        try:
            applicability_set(
                actor=Actor.from_request(request),
                risk_tier=tier,
                subcategory_codes=codes,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            return self._render(request, errors=exc.messages, status=400)
        messages.success(request, f"The {tier} tier now requires {len(codes)} subcategories.")
        return redirect(reverse("controls:applicability") + f"#tier-{tier}")

    def _render(
        self, request: HttpRequest, errors: list[str] | None = None, status: int = 200
    ) -> HttpResponse:
        matrix = applicability_matrix(principal=request.user)
        subs = list(subcategory_list(principal=request.user, applicability=Applicability.RISK_TIER))
        tiers = [
            {"value": value, "label": label, "required": matrix.get(value, set())}
            for value, label in RiskTier.choices
        ]
        context = {
            "tiers": tiers,
            "subs": subs,
            "errors": errors or [],
            "can_configure": has_perm(request.user, Perm.CONTROLS_CONFIGURE),
        }
        return render(request, "controls/applicability.html", context, status=status)


# Types a browser shows without running anything. Anything else (HTML, SVG, unknown: types a
# browser could execute as a page of this origin) is served as opaque bytes.
_INERT_TYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def evidence_download_type(content_type: str) -> str:
    return content_type if content_type in _INERT_TYPES else "application/octet-stream"


class EvidenceDownloadView(PermissionRequiredMixin, View):
    """An evidence file as it was uploaded; its SHA-256 travels in a header to check against."""

    required_permission = Perm.CONTROLS_VIEW

    def get(self, request: HttpRequest, slug: str, code: str, evidence_id: int) -> HttpResponse:
        system = ai_system_get(principal=request.user, slug=slug)
        sub = subcategory_get(principal=request.user, code=code)
        evidence = get_object_or_404(
            Evidence.objects.exclude(file=""),
            pk=evidence_id,
            implementation__system=system,
            implementation__subcategory=sub,
        )
        response = FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.file.name.rsplit("/", 1)[-1],
            content_type=evidence_download_type(evidence.content_type),
        )
        response["X-Content-SHA256"] = evidence.sha256
        # Whatever a browser makes of the file, it runs nothing from it in our origin.
        response["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; "
            "sandbox"
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
