"""Merkle proofs and signed checkpoints over the API: for auditors and their tools only.

Hashes are lower-case hex (like event hashes); a checkpoint's signed note carries its root in
base64, as the C2SP format wants. Verify a proof with RFC 9162 section 2.1.3.2 / 2.1.4.2, or
with tools/audit_verify.py.
"""

import base64

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.accounts.permissions import Perm
from governance.audit.models import AuditCheckpoint, AuditEvent
from governance.audit.selectors import audit_checkpoint_for_size, audit_checkpoint_list
from governance.audit.tree import (
    TreeIntegrityError,
    audit_tree_extend,
    tree_consistency_proof,
    tree_inclusion_proof,
)


def _tree_size_now() -> int:
    try:
        return audit_tree_extend()
    except TreeIntegrityError as exc:
        raise serializers.ValidationError(
            {"tree_size": [f"the audit chain is broken at {exc}; no proof can be given"]}
        ) from None


def _note(size: int) -> str | None:
    checkpoint = audit_checkpoint_for_size(size)
    return checkpoint.note if checkpoint else None


class AuditInclusionProofApi(APIView):
    """Proof that one event is in the tree of a given size (RFC 9162 inclusion proof)."""

    required_permission = Perm.AUDIT_PROOFS

    class InclusionProofQuery(serializers.Serializer):
        tree_size = serializers.IntegerField(
            min_value=1,
            required=False,
            help_text="The tree the proof is for; default: the latest checkpoint that covers "
            "the event, else the whole log now.",
        )

    class InclusionProof(serializers.Serializer):
        sequence = serializers.IntegerField()
        leaf_index = serializers.IntegerField(help_text="sequence - 1")
        tree_size = serializers.IntegerField()
        event_hash = serializers.CharField()
        leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || event hash bytes), hex")
        root_hash = serializers.CharField()
        inclusion_path = serializers.ListField(child=serializers.CharField())
        checkpoint = serializers.CharField(
            allow_null=True, help_text="A signed checkpoint of this tree size, if one was made"
        )

    @extend_schema(parameters=[InclusionProofQuery], responses=InclusionProof)
    def get(self, request: Request, sequence: int) -> Response:
        query = self.InclusionProofQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        event_hash = AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True)
        if not event_hash:
            raise Http404("no audit event with this sequence")
        available = _tree_size_now()
        size = query.validated_data.get("tree_size")
        if size is None:
            latest = audit_checkpoint_list().filter(tree_size__gte=sequence).first()
            size = latest.tree_size if latest else available
        if size < sequence:
            raise serializers.ValidationError(
                {"tree_size": [f"a tree of {size} events does not hold event {sequence}"]}
            )
        if size > available:
            raise serializers.ValidationError(
                {"tree_size": [f"the log holds {available} committed events"]}
            )
        proof = tree_inclusion_proof(sequence=sequence, size=size)
        return Response(
            self.InclusionProof(
                {
                    "sequence": sequence,
                    "leaf_index": sequence - 1,
                    "tree_size": size,
                    "event_hash": event_hash[0],
                    "leaf_hash": proof.leaf_hash.hex(),
                    "root_hash": proof.root.hex(),
                    "inclusion_path": [node.hex() for node in proof.path],
                    "checkpoint": _note(size),
                }
            ).data
        )


class AuditConsistencyProofApi(APIView):
    """Proof that the tree of size ``first`` is a prefix of the tree of size ``second``."""

    required_permission = Perm.AUDIT_PROOFS

    class ConsistencyProofQuery(serializers.Serializer):
        first = serializers.IntegerField(min_value=1)
        second = serializers.IntegerField(min_value=1)

        def validate(self, attrs: dict) -> dict:
            if attrs["first"] > attrs["second"]:
                raise serializers.ValidationError({"first": ["must not be larger than second"]})
            return attrs

    class ConsistencyProof(serializers.Serializer):
        first = serializers.IntegerField()
        second = serializers.IntegerField()
        first_root_hash = serializers.CharField()
        second_root_hash = serializers.CharField()
        consistency_path = serializers.ListField(child=serializers.CharField())
        first_checkpoint = serializers.CharField(allow_null=True)
        second_checkpoint = serializers.CharField(allow_null=True)

    @extend_schema(parameters=[ConsistencyProofQuery], responses=ConsistencyProof)
    def get(self, request: Request) -> Response:
        query = self.ConsistencyProofQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, second = query.validated_data["first"], query.validated_data["second"]
        available = _tree_size_now()
        if second > available:
            raise serializers.ValidationError(
                {"second": [f"the log holds {available} committed events"]}
            )
        proof = tree_consistency_proof(first=first, second=second)
        return Response(
            self.ConsistencyProof(
                {
                    "first": first,
                    "second": second,
                    "first_root_hash": proof.first_root.hex(),
                    "second_root_hash": proof.second_root.hex(),
                    "consistency_path": [node.hex() for node in proof.path],
                    "first_checkpoint": _note(first),
                    "second_checkpoint": _note(second),
                }
            ).data
        )


class AuditCheckpointListApi(generics.ListAPIView):
    """Signed checkpoints, newest first, with their RFC 3161 time-stamp when there is one."""

    required_permission = Perm.AUDIT_PROOFS

    class AuditCheckpointOutput(serializers.ModelSerializer):
        timestamp_token = serializers.SerializerMethodField(
            help_text="The RFC 3161 TimeStampResp (DER), base64; null without a TSA"
        )

        class Meta:
            model = AuditCheckpoint
            fields = [
                "created_at",
                "tree_size",
                "root_hash",
                "origin",
                "key_name",
                "key_id",
                "trigger",
                "label",
                "note",
                "timestamp_authority",
                "timestamped_at",
                "timestamp_error",
                "timestamp_token",
            ]

        def get_timestamp_token(self, obj: AuditCheckpoint) -> str | None:
            token = obj.timestamp_token
            return base64.b64encode(bytes(token)).decode() if token else None

    serializer_class = AuditCheckpointOutput

    def get_queryset(self):
        return audit_checkpoint_list()
