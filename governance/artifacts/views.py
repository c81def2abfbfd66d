"""Register version from artifact: upload a model file, read its facts, confirm a pre-filled
version form. The inspection is kept in the session between the two steps, so the facts that
reach the inventory (and the policy) are the ones the product read, not what the form posts."""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from governance.accounts.permissions import Perm, PermissionRequiredMixin
from governance.artifacts.forms import ArtifactUploadForm, VersionFromArtifactForm
from governance.artifacts.inspector import artifact_inspect_bytes
from governance.artifacts.record import InspectionError
from governance.artifacts.services import artifact_version_facts
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.inventory.services import model_version_register

SESSION_KEY = "artifact_inspections"
KEEP = 5  # inspections remembered per session


def _remember(request: HttpRequest, record: dict[str, Any]) -> str:
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept.pop(record["sha256"], None)
    kept[record["sha256"]] = record
    while len(kept) > KEEP:
        kept.pop(next(iter(kept)))
    request.session[SESSION_KEY] = kept
    return record["sha256"]


def _initial(record: dict[str, Any], system: Any) -> dict[str, Any]:
    facts = artifact_version_facts(record)  # the same mapping as the API's (govctl register)
    return {
        "inspection": record["sha256"],
        "system": system.slug,
        "framework": facts["framework"],
        "framework_version": facts["framework_version"],
        "artifact_format": facts["artifact_format"],
        "datasets": [d.slug for d in facts["datasets"]],
        "inference_signature": json.dumps(facts["inference_signature"], indent=1)
        if facts["inference_signature"]
        else "",
        "evaluation": json.dumps(facts["evaluation"]) if record["metrics"] else "",
    }


class VersionFromArtifactView(PermissionRequiredMixin, View):
    required_permission = Perm.INVENTORY_MANAGE
    template = "artifacts/version_from_artifact.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        upload = ArtifactUploadForm(initial={"system": request.GET.get("system", "")})
        return render(request, self.template, {"upload": upload})

    def post(self, request: HttpRequest) -> HttpResponse:
        if "inspection" in request.POST:
            return self._register(request)
        upload = ArtifactUploadForm(request.POST, request.FILES)
        if not upload.is_valid():
            return render(request, self.template, {"upload": upload}, status=400)
        file = upload.cleaned_data["file"]
        try:
            record = artifact_inspect_bytes(name=file.name, data=file.read()).as_dict()
        except InspectionError as exc:
            upload.add_error("file", str(exc))
            return render(request, self.template, {"upload": upload}, status=422)
        _remember(request, record)
        system = upload.cleaned_data["system"]
        form = VersionFromArtifactForm(initial=_initial(record, system))
        return render(
            request,
            self.template,
            {"form": form, "record": record, "system": system, "file_name": file.name},
        )

    def _register(self, request: HttpRequest) -> HttpResponse:
        form = VersionFromArtifactForm(request.POST)
        record = request.session.get(SESSION_KEY, {}).get(request.POST.get("inspection", ""))
        context: dict[str, Any] = {"form": form, "record": record}
        if record is None:
            messages.error(request, "That inspection has expired; upload the file again.")
            return redirect("artifacts:version-from-artifact")
        if not form.is_valid():
            context["system"] = form.cleaned_data.get("system")
            return render(request, self.template, context, status=400)
        data = form.cleaned_data
        system = data["system"]
        try:
            version = model_version_register(
                actor=Actor.from_request(request),
                system=system,
                datasets=data["datasets"],
                version=data["version"],
                framework=data["framework"],
                framework_version=data["framework_version"],
                artifact_format=data["artifact_format"],
                artifact_uri=data["artifact_uri"],
                artifact_sha256=record["sha256"],
                code_commit_sha=data["code_commit_sha"],
                inference_signature=data["inference_signature"],
                evaluation=data["evaluation"],
                artifact=record,
            )
        except (ValidationError, DomainError) as exc:
            form.add_error(None, exc if isinstance(exc, ValidationError) else str(exc))
            context["system"] = system
            return render(request, self.template, context, status=400)
        kept = dict(request.session.get(SESSION_KEY, {}))
        kept.pop(record["sha256"], None)
        request.session[SESSION_KEY] = kept
        messages.success(request, f"{version} registered from {record['format']} artifact.")
        return redirect("inventory:system-detail", slug=system.slug)
