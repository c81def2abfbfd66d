"""The OpenAPI document is complete and warning-free; Swagger UI needs no CDN."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert {"/api/v1/audit/events", "/api/v1/systems/", "/api/v1/me"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    post = schema["paths"]["/api/v1/systems/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_swagger_ui_loads_its_assets_locally(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
