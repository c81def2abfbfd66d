"""The ValidatingWebhookConfiguration for the admission gate, correct by construction.

Three webhooks, each scoped so that only what governance judges reaches the product, and so
that the product being down can never stop the cluster from running itself:

- ``workloads.governance.ai``: workloads whose own labels carry ``governance.ai/system``;
- ``governed-namespaces.governance.ai``: in namespaces labelled ``governance.ai/governed=true``,
  workloads that do not carry it (there they are refused, so removing labels is no way around
  the gate);
- ``names-elsewhere.governance.ai``: elsewhere, workloads that name a system only in
  annotations or on their pod template (an objectSelector sees labels only), so they get a
  clear refusal at the Deployment instead of silence there and failing Pods later.

Only CREATE and UPDATE are sent (DELETE is always allowed, so it is not sent at all), never
subresources (status, scale), never objects being deleted, never the system namespaces or the
product's own namespace.
"""

import base64
from typing import Any

from governance.webhooks.k8s_objects import LABEL_SYSTEM

GOVERNED_NAMESPACE_LABEL = "governance.ai/governed"
SYSTEM_NAMESPACES = ("kube-system", "kube-node-lease", "kube-public")
NAME = "governance.ai"
PATH = "/webhooks/k8s/admission"
GOVERNED_PATH = "/webhooks/k8s/admission/governed"
RULES = [
    {
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
    },
    {"apiGroups": ["batch"], "apiVersions": ["v1"], "resources": ["jobs", "cronjobs"]},
    {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]},
    {
        "apiGroups": ["serving.kserve.io"],
        "apiVersions": ["v1beta1"],
        "resources": ["inferenceservices"],
    },
]
NOT_BEING_DELETED = {
    "name": "not-being-deleted",
    # Finalizer removal and the garbage collector's last updates: stopping is always allowed.
    "expression": "!has(object.metadata.deletionTimestamp)",
}


def _in_map(path: str, key: str) -> str:
    """CEL: ``key`` is in the map at ``path``, guarding every step (a missing field is an
    evaluation error, which failurePolicy Fail would turn into a refusal)."""
    steps = path.split(".")
    guards = [f"has({'.'.join(steps[: i + 1])})" for i in range(1, len(steps))]
    return "(" + " && ".join([*guards, f"'{key}' in {path}"]) + ")"


NAMES_ELSEWHERE = {
    "name": "names-the-system-elsewhere",
    "expression": " || ".join(
        [
            _in_map("object.metadata.annotations", LABEL_SYSTEM),
            _in_map("object.spec.template.metadata.labels", LABEL_SYSTEM),
            _in_map("object.spec.template.metadata.annotations", LABEL_SYSTEM),
            _in_map("object.spec.jobTemplate.spec.template.metadata.labels", LABEL_SYSTEM),
        ]
    ),
}


def _client_config(*, url: str, service: str, path: str, ca_bundle: bytes) -> dict[str, Any]:
    config: dict[str, Any]
    if url:
        config = {"url": url.rstrip("/") + path}
    else:
        namespace, _, rest = service.partition("/")
        name, _, port = rest.partition(":")
        config = {"service": {"namespace": namespace, "name": name, "path": path}}
        if port:
            config["service"]["port"] = int(port)
    if ca_bundle:
        config["caBundle"] = base64.b64encode(ca_bundle).decode("ascii")
    return config


def _webhook(
    name: str,
    *,
    client: dict[str, Any],
    namespace_selector: list[dict[str, Any]],
    object_selector: list[dict[str, Any]],
    conditions: list[dict[str, str]],
    timeout: int,
) -> dict[str, Any]:
    return {
        "name": name,
        "admissionReviewVersions": ["v1"],
        "clientConfig": client,
        "rules": [
            {**rule, "operations": ["CREATE", "UPDATE"], "scope": "Namespaced"} for rule in RULES
        ],
        "matchPolicy": "Equivalent",
        "namespaceSelector": {"matchExpressions": namespace_selector},
        "objectSelector": {"matchExpressions": object_selector},
        "matchConditions": conditions,
        "failurePolicy": "Fail",
        "sideEffects": "NoneOnDryRun",
        "timeoutSeconds": timeout,
    }


def webhook_configuration(
    *,
    url: str = "",
    service: str = "",
    ca_bundle: bytes = b"",
    own_namespace: str = "governance",
    timeout: int = 5,
) -> dict[str, Any]:
    """The admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration, as a dict."""
    if bool(url) == bool(service):
        raise ValueError("Give exactly one of url (https://HOST) or service (NAMESPACE/NAME:PORT).")
    if url and not url.startswith("https://"):
        raise ValueError("The API server calls webhooks over HTTPS only: url must be https://.")
    if service and (service.count("/") != 1 or not all(service.partition("/")[::2])):
        raise ValueError("service is NAMESPACE/NAME or NAMESPACE/NAME:PORT.")
    if not 1 <= timeout <= 30:
        raise ValueError("timeout is 1 to 30 seconds (the API server's own bounds).")
    excluded = sorted({*SYSTEM_NAMESPACES, own_namespace})
    not_system = {
        "key": "kubernetes.io/metadata.name",
        "operator": "NotIn",
        "values": excluded,
    }
    has_system = {"key": LABEL_SYSTEM, "operator": "Exists"}
    lacks_system = {"key": LABEL_SYSTEM, "operator": "DoesNotExist"}
    governed = {"key": GOVERNED_NAMESPACE_LABEL, "operator": "In", "values": ["true"]}
    not_governed = {"key": GOVERNED_NAMESPACE_LABEL, "operator": "NotIn", "values": ["true"]}
    main = _client_config(url=url, service=service, path=PATH, ca_bundle=ca_bundle)
    strict = _client_config(url=url, service=service, path=GOVERNED_PATH, ca_bundle=ca_bundle)
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/part-of": "governance"}},
        "webhooks": [
            _webhook(
                f"workloads.{NAME}",
                client=main,
                namespace_selector=[not_system],
                object_selector=[has_system],
                conditions=[NOT_BEING_DELETED],
                timeout=timeout,
            ),
            _webhook(
                f"governed-namespaces.{NAME}",
                client=strict,
                namespace_selector=[not_system, governed],
                object_selector=[lacks_system],
                conditions=[NOT_BEING_DELETED],
                timeout=timeout,
            ),
            _webhook(
                f"names-elsewhere.{NAME}",
                client=main,
                namespace_selector=[not_system, not_governed],
                object_selector=[lacks_system],
                conditions=[NOT_BEING_DELETED, NAMES_ELSEWHERE],
                timeout=timeout,
            ),
        ],
    }
