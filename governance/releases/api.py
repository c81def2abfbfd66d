"""Release requests over the API: the same actions as the web UI, each POST idempotent."""

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.models import User
from governance.accounts.permissions import Perm
from governance.core.actor import Actor
from governance.core.errors import DomainError
from governance.core.filtering import filter_params
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.core.problems import problem_exception_handler
from governance.inventory.models import AISystem, Environment, ModelVersion
from governance.policy.models import Decision
from governance.releases.approvals import release_approval_record
from governance.releases.assignments import approver_assignment_create, approver_assignment_delete
from governance.releases.filters import ReleaseRequestFilter
from governance.releases.models import (
    Approval,
    ApprovalDecision,
    ApproverAssignment,
    ReleaseRequest,
)
from governance.releases.selectors import (
    approvals_all,
    approver_assignment_list,
    approving_count,
    release_request_get,
    release_request_list,
    release_timeline,
    waiting_for,
)
from governance.releases.services import (
    PolicyDenied,
    release_request_create,
    release_request_deploy,
    release_request_rollback,
    release_request_submit,
    release_request_update,
    release_request_withdraw,
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Send the same key to retry safely; the first response is replayed.",
)


def problems_as_responses(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Refusals leave as problem+json responses rather than exceptions, so that under
    @idempotent the audited refusal commits (and a replay returns the same refusal)."""

    @functools.wraps(handler)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return handler(view, request, *args, **kwargs)
        except (DomainError, ValidationError) as exc:
            response = problem_exception_handler(exc, {"request": request})
            if isinstance(exc, PolicyDenied):
                response.data["decision_id"] = str(exc.decision.decision_id)
                response.data["violations"] = exc.decision.violations
            return response

    return wrapper


class DecisionBriefSerializer(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy_version.number", allow_null=True)

    class Meta:
        model = Decision
        fields = ["decision_id", "allow", "violations", "policy_version", "occurred_at"]


class ApprovalOutputSerializer(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username")

    class Meta:
        model = Approval
        fields = [
            "approver",
            "decision",
            "reason",
            "content_hash",
            "break_glass",
            "created_at",
            "expires_at",
            "voided_at",
            "void_reason",
        ]


class ReleaseOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    system = serializers.CharField(source="system.slug")
    model_version = serializers.CharField(source="model_version.version")
    requester = serializers.CharField(source="requester.username")
    valid_approvals = serializers.SerializerMethodField()
    submit_decision = DecisionBriefSerializer(allow_null=True)
    deploy_decision = DecisionBriefSerializer(allow_null=True)

    class Meta:
        model = ReleaseRequest
        fields = [
            "id",
            "state",
            "system",
            "model_version",
            "environment",
            "title",
            "change_summary",
            "justification",
            "evaluation_links",
            "requester",
            "content_hash",
            "required_approvals",
            "valid_approvals",
            "break_glass",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "deployed_at",
            "closed_at",
            "submit_decision",
            "deploy_decision",
        ]

    def get_valid_approvals(self, release: ReleaseRequest) -> int:
        return approving_count(request=release)


class EventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    actor_type = serializers.CharField()
    action = serializers.CharField()
    reason = serializers.CharField()
    after = serializers.JSONField()


class ReleaseDetailOutputSerializer(ReleaseOutputSerializer):
    approvals = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    class Meta(ReleaseOutputSerializer.Meta):
        fields = [*ReleaseOutputSerializer.Meta.fields, "approvals", "timeline"]

    @extend_schema_field(ApprovalOutputSerializer(many=True))
    def get_approvals(self, release: ReleaseRequest) -> list[dict[str, Any]]:
        return ApprovalOutputSerializer(approvals_all(request=release), many=True).data

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, release: ReleaseRequest) -> list[dict[str, Any]]:
        events = release_timeline(principal=self.context["principal"], request=release)
        return EventSerializer(events, many=True).data


def _detail(request: Request, release: ReleaseRequest, code: int = 200) -> Response:
    data = ReleaseDetailOutputSerializer(release, context={"principal": request.user}).data
    return Response(data, status=code)


def _get(request: Request, public_id: Any) -> ReleaseRequest:
    return release_request_get(principal=request.user, public_id=public_id)


class ReleaseFieldsSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    change_summary = serializers.CharField()
    justification = serializers.CharField()
    evaluation_links = serializers.ListField(
        child=serializers.URLField(max_length=500), required=False, default=list
    )
    environment = serializers.ChoiceField(choices=Environment.choices)
    model_version = serializers.CharField(max_length=64)


class ReleaseListCreateApi(APIView):
    """Release requests, newest first; POST creates a draft (people only)."""

    required_permission = {"GET": Perm.RELEASES_VIEW, "POST": Perm.RELEASES_REQUEST}
    filterset_class = ReleaseRequestFilter

    class CreateInput(ReleaseFieldsSerializer):
        system = serializers.SlugField(max_length=80)

    @extend_schema(responses=ReleaseOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = filter_params(request=request, view=self)
        if params["waiting_for_me"]:
            releases: Any = waiting_for(user=request.user)
        else:
            mine = params["mine"] is True and isinstance(request.user, User)
            releases = release_request_list(
                principal=request.user,
                state=params["state"] or "",
                system=params["system"] or "",
                environment=params["environment"] or "",
                requester=request.user if mine else None,
            ).select_related("submit_decision__policy_version", "deploy_decision__policy_version")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(releases, request, view=self)
        return paginator.get_paginated_response(ReleaseOutputSerializer(page, many=True).data)

    @extend_schema(
        request=CreateInput,
        responses={201: ReleaseDetailOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    @problems_as_responses
    def post(self, request: Request) -> Response:
        data = self.CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        system = get_object_or_404(AISystem, slug=fields.pop("system"))
        version = get_object_or_404(
            ModelVersion, system=system, version=fields.pop("model_version")
        )
        release = release_request_create(
            actor=Actor.from_request(request), system=system, model_version=version, **fields
        )
        return _detail(request, release, status.HTTP_201_CREATED)


class ReleaseDetailApi(APIView):
    """One request with its approvals (voided ones too) and its timeline. PATCH edits it; a
    material edit voids earlier approvals."""

    required_permission = {"GET": Perm.RELEASES_VIEW, "PATCH": Perm.RELEASES_REQUEST}

    class UpdateInput(ReleaseFieldsSerializer):
        reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(responses=ReleaseDetailOutputSerializer)
    def get(self, request: Request, public_id: Any) -> Response:
        return _detail(request, _get(request, public_id))

    @extend_schema(request=UpdateInput, responses=ReleaseDetailOutputSerializer)
    @problems_as_responses
    def patch(self, request: Request, public_id: Any) -> Response:
        release = _get(request, public_id)
        data = self.UpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        reason = changes.pop("reason", "")
        if "model_version" in changes:
            changes["model_version"] = get_object_or_404(
                ModelVersion, system=release.system, version=changes["model_version"]
            )
        release = release_request_update(
            actor=Actor.from_request(request), request=release, reason=reason, **changes
        )
        return _detail(request, release)


class ReleaseReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _action_api(
    name: str, service: Callable[..., ReleaseRequest], perm: str, doc: str, reason: bool
) -> type[APIView]:
    """One API class per transition: POST with (where it takes one) a reason."""

    @extend_schema(
        request=ReleaseReasonInput if reason else None,
        responses=ReleaseDetailOutputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        operation_id=f"releases_{name}",
    )
    @idempotent
    @problems_as_responses
    def post(self: APIView, request: Request, public_id: Any) -> Response:
        release = _get(request, public_id)
        kwargs: dict[str, Any] = {}
        if reason:
            data = ReleaseReasonInput(data=request.data)
            data.is_valid(raise_exception=True)
            kwargs["reason"] = data.validated_data["reason"]
        release = service(actor=Actor.from_request(request), request=release, **kwargs)
        return _detail(request, release)

    return type(
        f"Release{name.title().replace('_', '')}Api",
        (APIView,),
        {"required_permission": {"POST": perm}, "post": post, "__doc__": doc},
    )


ReleaseSubmitApi = _action_api(
    "submit",
    release_request_submit,
    Perm.RELEASES_REQUEST,
    "Submit for approval: the policy decides and its decision is attached.",
    reason=False,
)
ReleaseWithdrawApi = _action_api(
    "withdraw",
    release_request_withdraw,
    Perm.RELEASES_REQUEST,
    "Withdraw the request (requester or admin); needs a reason.",
    reason=True,
)
ReleaseDeployApi = _action_api(
    "deploy",
    release_request_deploy,
    Perm.RELEASES_DEPLOY,
    "Mark an approved request deployed; the policy decides again and a deny blocks it (409).",
    reason=True,
)
ReleaseRollbackApi = _action_api(
    "rollback",
    release_request_rollback,
    Perm.RELEASES_DEPLOY,
    "Record a rollback of a deployed release; needs a reason.",
    reason=True,
)


class ReleaseApprovalApi(APIView):
    """Approve, reject or request changes, with a reason, on the content you reviewed:
    send its ``content_hash``; if the request changed since, the answer is 409."""

    required_permission = {"POST": Perm.RELEASES_APPROVE}

    class ApprovalInput(serializers.Serializer):
        decision = serializers.ChoiceField(choices=ApprovalDecision.choices)
        reason = serializers.CharField(max_length=2000, allow_blank=True)
        content_hash = serializers.RegexField(r"^[0-9a-f]{64}$")
        break_glass = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=ApprovalInput,
        responses={201: ReleaseDetailOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    @problems_as_responses
    def post(self, request: Request, public_id: Any) -> Response:
        release = _get(request, public_id)
        data = self.ApprovalInput(data=request.data)
        data.is_valid(raise_exception=True)
        release_approval_record(
            actor=Actor.from_request(request), request=release, **data.validated_data
        )
        return _detail(request, _get(request, public_id), status.HTTP_201_CREATED)


class AssignmentOutputSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    system = serializers.CharField(source="system.slug", allow_null=True)

    class Meta:
        model = ApproverAssignment
        fields = ["id", "user", "system", "environment", "created_by", "created_at"]


class ApproverAssignmentListCreateApi(APIView):
    """Who may approve where. Once an assignment covers a system and environment, only the
    assigned users may approve there."""

    required_permission = {"GET": Perm.RELEASES_VIEW, "POST": Perm.RELEASES_CONFIGURE}

    class AssignmentInput(serializers.Serializer):
        user = serializers.SlugRelatedField(
            slug_field="username", queryset=User.objects.filter(is_active=True)
        )
        system = serializers.SlugRelatedField(
            slug_field="slug", queryset=AISystem.objects.all(), required=False, allow_null=True
        )
        environment = serializers.ChoiceField(
            choices=Environment.choices, required=False, allow_blank=True, default=""
        )

    @extend_schema(responses=AssignmentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(approver_assignment_list(), request, view=self)
        return paginator.get_paginated_response(AssignmentOutputSerializer(page, many=True).data)

    @extend_schema(
        request=AssignmentInput,
        responses={201: AssignmentOutputSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    @problems_as_responses
    def post(self, request: Request) -> Response:
        data = self.AssignmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = approver_assignment_create(
            actor=Actor.from_request(request),
            user=data.validated_data["user"],
            system=data.validated_data.get("system"),
            environment=data.validated_data.get("environment", ""),
        )
        return Response(AssignmentOutputSerializer(assignment).data, status=201)


class ApproverAssignmentDetailApi(APIView):
    required_permission = {"DELETE": Perm.RELEASES_CONFIGURE}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        assignment = get_object_or_404(ApproverAssignment, pk=pk)
        approver_assignment_delete(actor=Actor.from_request(request), assignment=assignment)
        return Response(status=status.HTTP_204_NO_CONTENT)
