"""The SageMaker client signs with botocore's SigV4 (JSON 1.1, X-Amz-Target) and sends through
the product's one outbound client; the signature is the one botocore computes for the request
that is actually sent."""

import json
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from governance.core.outbound import OutboundResponse
from governance.integrations import sagemaker_api
from governance.integrations.mlflow_api import RegistryError
from governance.integrations.models import Integration

ENDPOINT = "https://api.sagemaker.eu-central-1.amazonaws.com"


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def sent(monkeypatch):
    calls = []

    def fake(method, url, *, headers=None, body=None, **kwargs):
        calls.append({"method": method, "url": url, "headers": headers, "body": body})
        answer = json.dumps({"ModelPackageArn": "arn:aws:sagemaker:x:1:model-package/g/1"})
        return OutboundResponse(status=200, headers={}, body=answer.encode())

    monkeypatch.setattr(sagemaker_api, "outbound_request", fake)
    return calls


def test_update_model_package_is_a_sigv4_signed_json_call_through_the_outbound_client(keys, sent):
    api = sagemaker_api.SageMakerApi(Integration(endpoint=ENDPOINT))
    api.update_model_package(
        arn="arn:aws:sagemaker:eu-central-1:1:model-package/g/1",
        status="Approved",
        description="[governance] approved",
    )
    [call] = sent
    headers = call["headers"]
    assert call["method"] == "POST" and call["url"] == ENDPOINT + "/"
    assert headers["X-Amz-Target"] == "SageMaker.UpdateModelPackage"
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(call["body"]) == {
        "ModelPackageArn": "arn:aws:sagemaker:eu-central-1:1:model-package/g/1",
        "ModelApprovalStatus": "Approved",
        "ApprovalDescription": "[governance] approved",
    }
    auth = headers["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-central-1/sagemaker/aws4_request" in auth
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target" in auth
    # Recomputed by botocore for the same request and moment: the same signature.
    stamp = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    again = AWSRequest(
        method="POST",
        url=ENDPOINT + "/",
        data=call["body"],
        headers={
            "Content-Type": headers["Content-Type"],
            "X-Amz-Target": headers["X-Amz-Target"],
        },
    )
    again.context["timestamp"] = stamp.strftime("%Y%m%dT%H%M%SZ")
    signer = SigV4Auth(
        Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        "sagemaker",
        "eu-central-1",
    )
    again.headers["X-Amz-Date"] = headers["X-Amz-Date"]
    expected = signer.signature(
        signer.string_to_sign(again, signer.canonical_request(again)), again
    )
    assert auth.endswith(f"Signature={expected}")


def test_session_token_is_sent_when_set(keys, sent, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    sagemaker_api.SageMakerApi(Integration(endpoint=ENDPOINT)).call("ListModelPackageGroups", {})
    assert sent[0]["headers"]["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-security-token" in sent[0]["headers"]["Authorization"]


def test_missing_credentials_refuse_before_any_call(monkeypatch, sent):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    with pytest.raises(RegistryError, match="AWS credentials are not set"):
        sagemaker_api.SageMakerApi(Integration(endpoint=ENDPOINT)).call("X", {})
    assert sent == []


@pytest.mark.parametrize(
    ("endpoint", "configured", "region"),
    [
        ("https://api.sagemaker.us-east-1.amazonaws.com", "", "us-east-1"),
        ("https://sagemaker.ap-southeast-2.amazonaws.com", "eu-west-1", "ap-southeast-2"),
        ("https://sagemaker-fips.us-gov-west-1.amazonaws.com", "", "us-gov-west-1"),
        ("http://127.0.0.1:5000", "eu-west-1", "eu-west-1"),
    ],
)
def test_region_comes_from_the_endpoint_or_aws_region(settings, endpoint, configured, region):
    settings.AWS_REGION = configured
    assert sagemaker_api.sagemaker_region(endpoint) == region


def test_no_region_at_all_is_refused(keys, sent, settings):
    settings.AWS_REGION = ""
    with pytest.raises(RegistryError, match="no AWS region"):
        sagemaker_api.SageMakerApi(Integration(endpoint="https://sm.example.com")).call("X", {})
    assert sent == []


def test_error_answers_name_the_aws_error(keys, monkeypatch):
    def refuse(method, url, **kwargs):
        body = {"__type": "com.amazon.coral#AccessDeniedException", "Message": "not allowed"}
        return OutboundResponse(status=400, headers={}, body=json.dumps(body).encode())

    monkeypatch.setattr(sagemaker_api, "outbound_request", refuse)
    with pytest.raises(RegistryError, match="answered 400: AccessDeniedException not allowed"):
        sagemaker_api.SageMakerApi(Integration(endpoint=ENDPOINT)).call("UpdateModelPackage", {})
