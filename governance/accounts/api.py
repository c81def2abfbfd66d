"""GET /api/v1/me: who the caller is and what it may do (a quick check for new tokens)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import ROLE_PERMISSIONS, Perm


class MeApi(APIView):
    required_permission = Perm.ACCOUNT_VIEW

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "kind": serializers.ChoiceField(choices=["user", "token"]),
                "name": serializers.CharField(),
                "role": serializers.CharField(allow_null=True),
                "permissions": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request: Request) -> Response:
        token = getattr(request.user, "token", None)
        if token is not None:
            return Response(
                {
                    "kind": "token",
                    "name": token.name,
                    "role": None,
                    "permissions": sorted(token.scopes),
                }
            )
        return Response(
            {
                "kind": "user",
                "name": request.user.get_username(),
                "role": request.user.role,
                "permissions": sorted(ROLE_PERMISSIONS.get(request.user.role, ())),
            }
        )
