"""SageMaker's API (JSON 1.1 protocol), signed with botocore's SigV4 and sent through the
product's one guarded outbound client (botocore's own HTTP stack is not used).

Credentials come from the environment only (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
optionally ``AWS_SESSION_TOKEN``), read at call time so a rotated key is picked up. The region
is the one in the endpoint's host name (``api.sagemaker.<region>.amazonaws.com``), else
``AWS_REGION``."""

import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.conf import settings

from governance.core.outbound import OutboundError, outbound_request
from governance.integrations.mlflow_api import RegistryError
from governance.integrations.models import Integration

SERVICE = "sagemaker"
CONTENT_TYPE = "application/x-amz-json-1.1"
_REGION_IN_HOST = re.compile(r"^(?:api\.)?sagemaker(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")


def sagemaker_region(endpoint: str) -> str:
    match = _REGION_IN_HOST.match(urlsplit(endpoint).hostname or "")
    return match.group(1) if match else settings.AWS_REGION


def aws_credentials() -> Credentials:
    key, secret = (
        os.environ.get("AWS_ACCESS_KEY_ID", ""),
        os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
    )
    if not key or not secret:
        raise RegistryError(
            "AWS credentials are not set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        )
    return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)


def signed_parts(
    *, endpoint: str, operation: str, params: dict[str, Any], credentials: Credentials
) -> tuple[str, dict[str, str], bytes]:
    """URL, headers (with the SigV4 ``Authorization``) and body of one SageMaker call."""
    region = sagemaker_region(endpoint)
    if not region:
        raise RegistryError("no AWS region: use a regional endpoint or set AWS_REGION")
    url = endpoint.rstrip("/") + "/"
    body = json.dumps(params, separators=(",", ":")).encode()
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": f"SageMaker.{operation}"},
    )
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    return url, dict(request.headers.items()), body


class SageMakerApi:
    def __init__(self, integration: Integration):
        self.endpoint = integration.endpoint

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        url, headers, body = signed_parts(
            endpoint=self.endpoint,
            operation=operation,
            params=params,
            credentials=aws_credentials(),
        )
        try:
            response = outbound_request("POST", url, headers=headers, body=body)
        except OutboundError as exc:
            raise RegistryError(f"SageMaker {operation}: {exc}") from None
        try:
            answer = json.loads(response.body) if response.body else {}
        except ValueError:
            answer = {}
        if not response.ok:
            kind = str(answer.get("__type") or answer.get("code") or "").rsplit("#", 1)[-1]
            message = str(answer.get("message") or answer.get("Message") or "")[:300]
            raise RegistryError(
                f"SageMaker {operation} answered {response.status}: {kind} {message}".strip()
            )
        return answer if isinstance(answer, dict) else {}

    def update_model_package(self, *, arn: str, status: str, description: str) -> str:
        answer = self.call(
            "UpdateModelPackage",
            {
                "ModelPackageArn": arn,
                "ModelApprovalStatus": status,
                "ApprovalDescription": description[:1024],
            },
        )
        return str(answer.get("ModelPackageArn") or arn)
