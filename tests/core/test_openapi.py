import re


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_every_operation_documents_success_and_errors(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert any(code.startswith("2") for code in codes), (method, path)
            assert any(code[0] in "45" for code in codes) or path in {"/healthz"}, (method, path)


def test_protected_operations_declare_bearer_security(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    me = spec["paths"]["/api/v1/auth/me"]["get"]
    assert {"bearerAuth": []} in me["security"]
    assert {"401", "403"} <= set(me["responses"])
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]


def test_error_schema_is_the_detail_shape(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"detail", "errors"}


def test_swagger_ui_is_served(client):
    response = client.get("/docs")

    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_swagger_ui_loads_only_local_assets_from_the_pinned_package(client):
    page = client.get("/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert sources
    assert all(source.startswith("/docs/swagger-ui/") for source in sources), sources
    assert '"validatorUrl": null' in page
    for source in sources:
        with client.get(source) as asset:
            assert asset.status_code == 200, source
            assert len(asset.data) > 1000


def test_every_operation_open_to_api_keys_documents_its_scope(client):
    from app.core.auth import API_KEY_SCOPES

    spec = client.get("/api/v1/openapi.json").get_json()
    operations = [
        op
        for path in spec["paths"].values()
        for method, op in path.items()
        if method != "parameters"
    ]
    open_to_keys = [op for op in operations if {"apiKeyHeader": []} in op.get("security", [])]
    scopes = {op["operationId"]: op.get("x-required-scope") for op in open_to_keys}
    key_schema = spec["components"]["schemas"]["ApiKey"]["properties"]

    assert scopes["getUser"] == "users:read"
    assert scopes["introspectToken"] == "tokens:introspect"
    assert set(scopes.values()) == set(API_KEY_SCOPES)
    assert [
        op["operationId"]
        for op in operations
        if "x-required-scope" in op and op not in open_to_keys
    ] == []
    assert key_schema["scopes"]["items"]["enum"] == list(API_KEY_SCOPES)
    assert "description" in key_schema["allowed_ips"]
