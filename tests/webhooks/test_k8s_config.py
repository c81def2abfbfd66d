"""manage.py k8s_webhook_config: a ValidatingWebhookConfiguration that cannot take a cluster
down, checked field by field, and checked against the admission endpoint's own behaviour."""

import base64
import io
import re

import pytest
import yaml
from django.core.management import CommandError, call_command

from governance.webhooks.k8s_config import NAMES_ELSEWHERE
from governance.webhooks.k8s_objects import WORKLOAD_KINDS

CA = b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"


def generate(*args: str) -> dict:
    out = io.StringIO()
    call_command("k8s_webhook_config", *args, stdout=out)
    text = out.getvalue()
    assert "&id" not in text  # plain YAML, no anchors
    return yaml.safe_load(text)


@pytest.fixture
def config(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(CA)
    return generate("--url", "https://governance.example.com/", "--ca-bundle", str(ca))


def test_every_webhook_is_safe_for_the_cluster(config):
    assert config["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert config["kind"] == "ValidatingWebhookConfiguration"
    names = [w["name"] for w in config["webhooks"]]
    assert names == [
        "workloads.governance.ai",
        "governed-namespaces.governance.ai",
        "names-elsewhere.governance.ai",
    ]
    for webhook in config["webhooks"]:
        assert webhook["sideEffects"] == "NoneOnDryRun"
        assert webhook["failurePolicy"] == "Fail"
        assert webhook["timeoutSeconds"] == 5
        assert webhook["admissionReviewVersions"] == ["v1"]
        assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == CA
        excluded = webhook["namespaceSelector"]["matchExpressions"][0]
        assert excluded["key"] == "kubernetes.io/metadata.name"
        assert excluded["operator"] == "NotIn"
        assert {"kube-system", "governance"} <= set(excluded["values"])
        assert webhook["matchConditions"][0]["expression"] == (
            "!has(object.metadata.deletionTimestamp)"
        )
        for rule in webhook["rules"]:
            assert rule["operations"] == ["CREATE", "UPDATE"]  # DELETE never reaches us
            assert not any("/" in r for r in rule["resources"])  # no status, no scale


def test_the_rules_cover_exactly_the_kinds_the_endpoint_judges(config):
    plural = {
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "DaemonSet": "daemonsets",
        "Job": "jobs",
        "CronJob": "cronjobs",
        "Pod": "pods",
        "InferenceService": "inferenceservices",
    }
    covered = {
        (group, resource)
        for rule in config["webhooks"][0]["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert covered == {(group, plural[kind]) for group, kind in WORKLOAD_KINDS}


def test_the_system_label_is_what_scopes(config):
    workloads, governed, elsewhere = config["webhooks"]
    assert workloads["objectSelector"]["matchExpressions"] == [
        {"key": "governance.ai/system", "operator": "Exists"}
    ]
    assert (
        workloads["clientConfig"]["url"] == "https://governance.example.com/webhooks/k8s/admission"
    )
    assert governed["objectSelector"]["matchExpressions"][0]["operator"] == "DoesNotExist"
    assert governed["namespaceSelector"]["matchExpressions"][1] == {
        "key": "governance.ai/governed",
        "operator": "In",
        "values": ["true"],
    }
    assert governed["clientConfig"]["url"].endswith("/webhooks/k8s/admission/governed")
    assert elsewhere["namespaceSelector"]["matchExpressions"][1]["operator"] == "NotIn"
    assert elsewhere["matchConditions"][1] == NAMES_ELSEWHERE


def test_the_cel_guards_every_step_before_reading_a_map():
    # A missing field is an evaluation error, and failurePolicy Fail would refuse on it.
    for term in NAMES_ELSEWHERE["expression"].split(" || "):
        path = re.search(r"' in (\S+)\)$", term).group(1)
        parts = path.split(".")
        for i in range(2, len(parts) + 1):
            assert f"has({'.'.join(parts[:i])})" in term


def test_a_service_reference(tmp_path):
    config = generate(
        "--service", "gov/governance-web:8443", "--namespace", "gov", "--timeout", "10"
    )
    client = config["webhooks"][0]["clientConfig"]
    assert client == {
        "service": {
            "namespace": "gov",
            "name": "governance-web",
            "path": "/webhooks/k8s/admission",
            "port": 8443,
        }
    }
    assert config["webhooks"][0]["timeoutSeconds"] == 10
    assert "gov" in config["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://plain.example.com"], "HTTPS only"),
        (["--service", "no-namespace"], "NAMESPACE/NAME"),
        (["--url", "https://x.example.com", "--timeout", "31"], "1 to 30 seconds"),
        (["--url", "https://x.example.com", "--ca-bundle", "/nonexistent.pem"], "Cannot read"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(args, message):
    with pytest.raises(CommandError, match=message):
        generate(*args)


def test_a_ca_bundle_that_is_not_pem_is_refused(tmp_path):
    bad = tmp_path / "ca.der"
    bad.write_bytes(b"\x30\x82")
    with pytest.raises(CommandError, match="no PEM certificate"):
        generate("--url", "https://x.example.com", "--ca-bundle", str(bad))
