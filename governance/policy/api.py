"""The policy API: checks from pipelines, the decision log, and policy versions."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.authentication import ApiTokenAuthentication
from governance.accounts.permissions import Perm
from governance.accounts.throttling import POLICY_CHECK
from governance.core.actor import Actor
from governance.core.filtering import filter_params
from governance.core.idempotency import idempotent
from governance.core.pagination import PageNumberPagination
from governance.inventory.models import Environment
from governance.policy.filters import DecisionFilter
from governance.policy.models import Decision, Endpoint, PolicyVersion
from governance.policy.selectors import (
    decision_get,
    decision_list,
    deployment_request_resolve,
    policy_version_get,
    policy_version_list,
)
from governance.policy.services import (
    decision_evaluate,
    policy_version_activate,
    policy_version_create,
    policy_version_shadow,
    policy_version_shadow_stop,
)
from governance.webhooks.authentication import StandardWebhooksAuthentication


class ViolationSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.ChoiceField(choices=["deny", "warn"])
    controls = serializers.ListField(child=serializers.CharField())


class DecisionOutputSerializer(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy_version.number", allow_null=True)
    violations = ViolationSerializer(many=True)

    class Meta:
        model = Decision
        fields = [
            "decision_id",
            "allow",
            "violations",
            "policy_version",
            "policy_hash",
            "occurred_at",
            "endpoint",
            "caller",
            "system_slug",
            "model_version",
            "environment",
            "engine",
            "latency_ms",
            "error",
            "fail_open",
            "dry_run",
        ]


class DecisionDetailOutputSerializer(DecisionOutputSerializer):
    shadow = serializers.SerializerMethodField()

    class Meta(DecisionOutputSerializer.Meta):
        fields = [*DecisionOutputSerializer.Meta.fields, "input", "request_id", "shadow"]

    def get_shadow(self, decision: Decision) -> dict[str, Any] | None:
        shadow = getattr(decision, "shadow", None)
        if shadow is None:
            return None
        return {
            "policy_version": shadow.policy_version.number,
            "allow": shadow.allow,
            "added": shadow.added,
            "removed": shadow.removed,
            "error": shadow.error,
        }


class PolicyCheckApi(APIView):
    """May this model version go to this environment now? Every answer is logged.

    Authenticate with a Bearer token (scope policy.check) or sign the body per Standard
    Webhooks (webhook-id, webhook-timestamp, webhook-signature) with POLICY_CHECK_WEBHOOK_SECRET.
    """

    required_permission = Perm.POLICY_CHECK
    token_rate_bucket = POLICY_CHECK  # its own per-token budget (TOKEN_RATE_LIMIT_POLICY_CHECK)
    authentication_classes = [
        ApiTokenAuthentication,
        StandardWebhooksAuthentication,
        *APIView.authentication_classes[1:],  # the session, for people in the browser
    ]

    class CheckInput(serializers.Serializer):
        system = serializers.SlugField(max_length=80)
        model_version = serializers.CharField(max_length=64)
        environment = serializers.CharField(max_length=32)
        requester = serializers.CharField(max_length=150)
        change = serializers.DictField(required=False, default=dict)
        current_version = serializers.CharField(max_length=64, required=False)

    class CheckOutput(serializers.Serializer):
        decision_id = serializers.UUIDField()
        allow = serializers.BooleanField()
        violations = ViolationSerializer(many=True)
        policy_version = serializers.IntegerField(allow_null=True)
        policy_hash = serializers.CharField()

    @extend_schema(
        request=CheckInput,
        responses={200: CheckOutput},
        description=f"environment is one of {', '.join(Environment.values)}.",
    )
    def post(self, request: Request) -> Response:
        data = self.CheckInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        deployment = deployment_request_resolve(
            system_slug=fields["system"],
            version=fields["model_version"],
            environment=fields["environment"],
            requester=fields["requester"],
            change=fields["change"],
            current_version=fields.get("current_version"),
        )
        decision = decision_evaluate(
            actor=Actor.from_request(request), endpoint=Endpoint.API, request=deployment
        )
        return Response(
            {
                "decision_id": str(decision.decision_id),
                "allow": decision.allow,
                "violations": decision.violations,
                "policy_version": decision.policy_version.number
                if decision.policy_version
                else None,
                "policy_hash": decision.policy_hash,
            }
        )


class DecisionListApi(APIView):
    """The decision log, newest first."""

    required_permission = Perm.DECISIONS_VIEW
    filterset_class = DecisionFilter

    @extend_schema(responses=DecisionOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        params = filter_params(request=request, view=self)
        decisions = decision_list(
            principal=request.user,
            system=params["system"] or "",
            environment=params["environment"] or "",
            allow=params["allow"],
            endpoint=params["endpoint"] or "",
            policy_version=params["policy_version"],
            disagreements_only=params["disagreements"] is True,
            dry_run=params["dry_run"],
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(decisions, request, view=self)
        return paginator.get_paginated_response(DecisionOutputSerializer(page, many=True).data)


class DecisionDetailApi(APIView):
    """One decision with its (masked) input and any shadow disagreement."""

    required_permission = Perm.DECISIONS_VIEW

    @extend_schema(responses=DecisionDetailOutputSerializer)
    def get(self, request: Request, decision_id: str) -> Response:
        decision = decision_get(principal=request.user, decision_id=decision_id)
        return Response(DecisionDetailOutputSerializer(decision).data)


class PolicyVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyVersion
        fields = [
            "number",
            "content_hash",
            "status",
            "note",
            "created_by",
            "created_at",
            "activated_by",
            "activated_at",
            "tests_passed",
            "test_results",
        ]


class PolicyVersionDetailOutputSerializer(PolicyVersionOutputSerializer):
    class Meta(PolicyVersionOutputSerializer.Meta):
        fields = [*PolicyVersionOutputSerializer.Meta.fields, "modules", "data"]


class PolicyVersionListCreateApi(APIView):
    """Policy versions, newest first; POST adds a candidate (compiled and tested first)."""

    required_permission = {"GET": Perm.POLICY_VIEW, "POST": Perm.POLICY_MANAGE}

    class VersionInput(serializers.Serializer):
        modules = extend_schema_field(
            {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}}
        )(serializers.DictField(child=serializers.CharField(trim_whitespace=False)))
        data = serializers.DictField()
        note = serializers.CharField(max_length=500)

    @extend_schema(responses=PolicyVersionOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            policy_version_list(principal=request.user), request, view=self
        )
        return paginator.get_paginated_response(PolicyVersionOutputSerializer(page, many=True).data)

    @extend_schema(request=VersionInput, responses={201: PolicyVersionDetailOutputSerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        data = self.VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = policy_version_create(actor=Actor.from_request(request), **data.validated_data)
        return Response(
            PolicyVersionDetailOutputSerializer(version).data, status=status.HTTP_201_CREATED
        )


class PolicyVersionDetailApi(APIView):
    """One policy version with its sources and data."""

    required_permission = Perm.POLICY_VIEW

    @extend_schema(responses=PolicyVersionDetailOutputSerializer)
    def get(self, request: Request, version_number: int) -> Response:
        version = policy_version_get(principal=request.user, number=version_number)
        return Response(PolicyVersionDetailOutputSerializer(version).data)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class _VersionActionApi(APIView):
    required_permission = Perm.POLICY_MANAGE
    service: Any = None

    @extend_schema(request=ReasonInput, responses=PolicyVersionOutputSerializer)
    @idempotent
    def post(self, request: Request, version_number: int) -> Response:
        version = policy_version_get(principal=request.user, number=version_number)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = type(self).service(
            actor=Actor.from_request(request), version=version, reason=data.validated_data["reason"]
        )
        return Response(PolicyVersionOutputSerializer(version).data)


class PolicyVersionActivateApi(_VersionActionApi):
    """Make this version the one that decides (audited, with the reason)."""

    service = staticmethod(policy_version_activate)


class PolicyVersionShadowApi(_VersionActionApi):
    """Run this version in shadow beside the active one; disagreements are recorded."""

    service = staticmethod(policy_version_shadow)


class PolicyVersionShadowStopApi(_VersionActionApi):
    """Stop running this version in shadow."""

    service = staticmethod(policy_version_shadow_stop)
