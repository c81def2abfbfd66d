"""The OpenAPI document is complete and warning-free; Swagger UI needs no CDN."""

import json

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


# --- The schema tells the truth by default (#11 item 8) ------------------------------------

PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_error_an_operation_documents_is_a_problem(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        if "security" in operation and {} not in operation["security"]:
            assert {"401", "403"} <= set(responses), (method, path)
        for code, response in responses.items():
            if int(code) < 400:
                continue
            content = response["content"]
            if (path, code) == ("/api/v1/systems/import", "400"):
                continue  # the import report: a problem with the row errors, documented apart
            if path.startswith("/ofrep/") and "application/json" in content:
                continue  # OFREP's evaluation errors are the protocol's own, for its providers
            assert content == {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}, (
                method,
                path,
                code,
            )


def test_operations_with_a_body_or_query_document_400_413_415(schema):
    for path, method, operation in _operations(schema):
        codes = set(operation["responses"])
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= codes, (method, path)
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert {"400", "404"} <= codes, (method, path)
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert "404" in codes, (method, path)


def test_every_parameter_has_a_type(schema):
    """An untyped parameter (schema {}) lets any value through the contract unnoticed."""
    for path, method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            assert parameter["schema"].get("type"), (method, path, parameter["name"])


def _api_views():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                yield prefix + str(pattern.pattern), pattern.callback.cls

    return list(walk(get_resolver().url_patterns))


def test_idempotency_key_is_documented_exactly_where_it_is_honoured(schema):
    from governance.core.idempotency import KEY_PATTERN, accepts_idempotency_key

    honoured = {
        (view.__name__, method)
        for _route, view in _api_views()
        for method in ("post", "put", "patch", "delete")
        if accepts_idempotency_key(getattr(view, method, None))
    }
    assert ("AISystemArchiveApi", "post") in honoured  # decorated, and was undocumented
    documented = {
        (operation["operationId"], method)
        for _path, method, operation in _operations(schema)
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert len(documented) == len(honoured)
    for _path, _method, operation in _operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "Idempotency-Key":
                assert parameter["in"] == "header"
                assert parameter["schema"]["pattern"] == KEY_PATTERN  # the one the server checks
                assert {"409", "422"} <= set(operation["responses"])


def test_list_responses_are_documented_as_what_they_return(schema, client_for):
    """Every GET without path parameters, called as admin: a paginated envelope where the
    schema says so, a bare array where it says array."""
    from governance.accounts.models import Role

    admin = client_for(Role.ADMIN)
    checked = {"envelope": 0, "array": 0}
    for path, method, operation in _operations(schema):
        if method != "GET" or "{" in path or path.endswith("/stream"):
            continue
        content = operation["responses"]["200"].get("content", {})
        documented = content.get("application/json", {}).get("schema", {})
        ref = documented.get("$ref", "")
        if not (ref.startswith("#/components/schemas/Paginated") or documented.get("type")):
            continue
        response = admin.get(path)
        if response.status_code == 403:
            continue  # a permission admins do not hold (audit proofs are the auditor's)
        assert response.status_code == 200, (path, response.content)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = json.loads(raw)
        if ref:
            assert set(body) == {"count", "next", "previous", "results"}, path
            checked["envelope"] += 1
        elif documented["type"] == "array":
            assert isinstance(body, list), path
            checked["array"] += 1
    assert checked["envelope"] >= 10
    assert checked["array"] >= 1


def test_exports_are_documented_as_arrays_of_their_rows(schema):
    from governance.reports import exports

    for name, export in (
        ("systems", exports.SYSTEMS),
        ("controls", exports.CONTROLS),
        ("coverage", exports.COVERAGE),
        ("audit-events", exports.AUDIT_EVENTS),
    ):
        ok = schema["paths"][f"/api/v1/exports/{name}.{{fmt}}"]["get"]["responses"]["200"]
        documented = ok["content"]["application/json"]["schema"]
        assert documented["type"] == "array"
        assert documented["items"]["required"] == list(export.fields)


def test_a_new_api_view_is_honest_without_writing_anything(settings):
    """The mechanism covers endpoints added later: pagination, errors and Idempotency-Key."""
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.utils import extend_schema
    from rest_framework import serializers
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from governance.accounts.permissions import Perm
    from governance.core.idempotency import idempotent

    class ThingSerializer(serializers.Serializer):
        name = serializers.CharField()

    class ThingsApi(APIView):
        required_permission = {"GET": Perm.INVENTORY_VIEW, "POST": Perm.INVENTORY_MANAGE}

        @extend_schema(responses=ThingSerializer(many=True))
        def get(self, request):
            return Response([])

        @extend_schema(request=ThingSerializer, responses={201: ThingSerializer})
        @idempotent
        def post(self, request):
            return Response({}, status=201)

    generated = SchemaGenerator(patterns=[path("api/v1/things", ThingsApi.as_view())]).get_schema(
        request=None, public=True
    )
    listing = generated["paths"]["/api/v1/things"]["get"]
    creating = generated["paths"]["/api/v1/things"]["post"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedThingList"
    }
    assert {p["name"] for p in listing["parameters"]} == {"page", "page_size"}
    # Reads spend a token's read budget (429); this write spends none.
    assert set(listing["responses"]) == {"200", "400", "401", "403", "404", "429"}
    assert "Retry-After" in listing["responses"]["429"]["headers"]
    assert set(creating["responses"]) == {
        *("201", "400", "401", "403", "404", "409", "413", "415", "422")
    }
    assert [p["name"] for p in creating["parameters"]] == ["Idempotency-Key"]
    assert "Problem" in generated["components"]["schemas"]
