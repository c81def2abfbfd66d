"""A real MLflow tracking server for the tests (``make mlflow-venv`` installs it in
.venv-mlflow): SQLite backend, artifacts proxied by the server, webhooks allowed to reach the
product on 127.0.0.1. One per test session."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = REPO / ".venv-mlflow" / "bin" / "python"
MLFLOW_BIN = REPO / ".venv-mlflow" / "bin" / "mlflow"
WEBHOOK_ENV = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
}


def free_port() -> int:
    wanted = int(os.environ.get("MLFLOW_TEST_PORT", "0"))
    if wanted:
        return wanted
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MlflowServer:
    def __init__(self, root: Path):
        if not MLFLOW_BIN.exists():
            raise RuntimeError("MLflow is not installed: run `make mlflow-venv`")
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (root / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                str(MLFLOW_BIN), "server",
                "--backend-store-uri", f"sqlite:///{root / 'mlflow.sqlite'}",
                "--artifacts-destination", str(root / "artifacts"),
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
            ],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **WEBHOOK_ENV},
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(root / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:  # noqa: S310
                    if answer.read().strip() == b"OK":
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("mlflow server did not become healthy in 180 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def get(self, path: str, **query: str) -> tuple[int, dict]:
        from urllib.parse import urlencode

        url = f"{self.url}{path}?{urlencode(query)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def client(self, script: str, **env: str) -> str:
        """Run ``script`` with MLflow's own Python client, as a data scientist would."""
        done = subprocess.run(
            [str(MLFLOW_PYTHON), "-c", script],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**os.environ, **WEBHOOK_ENV, "MLFLOW_TRACKING_URI": self.url, **env},
        )
        if done.returncode != 0:
            raise AssertionError(f"mlflow client failed:\n{done.stderr[-3000:]}")
        return done.stdout
