"""The MLflow tracking server's REST API, through the product's one guarded outbound client.

Only what the integration needs: a model version, its download URI, its run (params, metrics,
git commit, dataset inputs), the files of the model (through the server's artifact proxy,
``mlflow-artifacts:``), model-version tags, and removing an alias."""

from typing import Any
from urllib.parse import quote, urlencode

from governance.core.outbound import OutboundError, outbound_request
from governance.integrations.models import Integration
from governance.integrations.secrets import integration_token

MAX_FILE_BYTES = 64 * 1024 * 1024  # larger model files are listed, not fetched
MAX_FILES = 50
MAX_DEPTH = 2


class RegistryError(Exception):
    """The registry refused or could not be reached; the message is safe to store and show."""


class MlflowApi:
    def __init__(self, integration: Integration):
        self.base = integration.endpoint.rstrip("/")
        token = integration_token(integration)
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        json: Any = None,
        raw: bool = False,
        max_bytes: int = 10 * 1024 * 1024,
    ) -> Any:
        url = f"{self.base}{path}"
        if query:
            url = f"{url}?{urlencode(query)}"
        try:
            response = outbound_request(
                method, url, headers=self.headers, json=json, max_response_bytes=max_bytes
            )
        except OutboundError as exc:
            raise RegistryError(f"MLflow {method} {path}: {exc}") from None
        if not response.ok:
            detail = response.body[:300].decode("utf-8", "replace")
            raise RegistryError(f"MLflow {method} {path} answered {response.status}: {detail}")
        if raw:
            return response.body
        try:
            return response.json() if response.body else {}
        except ValueError:
            raise RegistryError(f"MLflow {method} {path} answered something not JSON") from None

    def model_version(self, name: str, version: str) -> dict[str, Any]:
        body = self._call(
            "GET", "/api/2.0/mlflow/model-versions/get", query={"name": name, "version": version}
        )
        return body.get("model_version") or {}

    def download_uri(self, name: str, version: str) -> str:
        body = self._call(
            "GET",
            "/api/2.0/mlflow/model-versions/get-download-uri",
            query={"name": name, "version": version},
        )
        return str(body.get("artifact_uri") or "")

    def run(self, run_id: str) -> dict[str, Any]:
        return self._call("GET", "/api/2.0/mlflow/runs/get", query={"run_id": run_id}).get(
            "run", {}
        )

    def list_artifacts(self, path: str) -> list[dict[str, Any]]:
        body = self._call("GET", "/api/2.0/mlflow-artifacts/artifacts", query={"path": path})
        return [f for f in body.get("files") or [] if isinstance(f, dict)]

    def download(self, path: str) -> bytes:
        return self._call(
            "GET",
            f"/api/2.0/mlflow-artifacts/artifacts/{quote(path)}",
            raw=True,
            max_bytes=MAX_FILE_BYTES,
        )

    def model_files(self, artifact_uri: str) -> tuple[dict[str, bytes], list[str]]:
        """The model directory's files (relative path -> bytes) and those left unread (too
        large, too many, too deep). Only ``mlflow-artifacts:`` URIs can be read here."""
        prefix = "mlflow-artifacts:"
        if not artifact_uri.startswith(prefix):
            raise RegistryError(
                f"the model's files are at {artifact_uri!r}; only the tracking server's "
                "artifact proxy (mlflow-artifacts:) is read"
            )
        root = artifact_uri[len(prefix) :].lstrip("/")
        files: dict[str, bytes] = {}
        skipped: list[str] = []
        pending = [("", 0)]
        while pending:
            rel, depth = pending.pop(0)
            for entry in self.list_artifacts(f"{root}/{rel}".rstrip("/")):
                name = str(entry.get("path", "")).rsplit("/", 1)[-1]
                if not name or name in (".", ".."):
                    continue
                child = f"{rel}/{name}".lstrip("/")
                if entry.get("is_dir"):
                    if depth < MAX_DEPTH:
                        pending.append((child, depth + 1))
                    continue
                size = int(entry.get("file_size") or 0)
                if size > MAX_FILE_BYTES or len(files) >= MAX_FILES:
                    skipped.append(child)
                    continue
                files[child] = self.download(f"{root}/{child}")
        return files, skipped

    def set_tag(self, name: str, version: str, key: str, value: str) -> None:
        self._call(
            "POST",
            "/api/2.0/mlflow/model-versions/set-tag",
            json={"name": name, "version": version, "key": key, "value": value[:5000]},
        )

    def delete_alias(self, name: str, alias: str) -> None:
        # MLflow's server reads a DELETE's fields from its JSON body (GET: from the query).
        self._call(
            "DELETE", "/api/2.0/mlflow/registered-models/alias", json={"name": name, "alias": alias}
        )

    def alias_version(self, name: str, alias: str) -> str | None:
        try:
            body = self._call(
                "GET",
                "/api/2.0/mlflow/registered-models/alias",
                query={"name": name, "alias": alias},
            )
        except RegistryError as exc:
            # MLflow answers an unset alias with 400 INVALID_PARAMETER_VALUE "... not found".
            if "answered 404" in str(exc) or (
                "answered 400" in str(exc) and "not found" in str(exc)
            ):
                return None
            raise
        return str((body.get("model_version") or {}).get("version") or "") or None
