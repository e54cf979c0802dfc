"""The OpenAPI document as a contract for generated clients: valid, every operation
named, summarised and tagged, enums and response headers documented.

Responses themselves are checked against this document by `tests/contract.py` on every
test-client request of the suite.
"""

import re

import pytest
from openapi_spec_validator import validate

from app.data.schemas import TIMESERIES_UNITS
from tests.contract import ContractViolationError, check
from tests.ratelimit.helpers import RATE_LIMIT_HEADERS

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")
# Generated clients name their functions after these: renaming one breaks them.
STABLE_OPERATION_IDS = {
    ("get", "/healthz"): "checkLiveness",
    ("get", "/readyz"): "checkReadiness",
    ("post", "/api/v1/auth/login"): "login",
    ("get", "/api/v1/auth/me"): "getCurrentDeveloper",
    ("post", "/api/v1/auth/logout"): "logout",
    ("post", "/api/v1/auth/refresh"): "refreshTokens",
    ("get", "/api/v1/api-keys"): "listApiKeys",
    ("post", "/api/v1/api-keys"): "createApiKey",
    ("get", "/api/v1/api-keys/{key_id}"): "getApiKey",
    ("patch", "/api/v1/api-keys/{key_id}"): "updateApiKey",
    ("delete", "/api/v1/api-keys/{key_id}"): "deleteApiKey",
    ("post", "/api/v1/api-keys/{key_id}/rotate"): "rotateApiKey",
    ("get", "/api/v1/api-keys/{key_id}/usage"): "getApiKeyUsage",
    ("get", "/api/v1/usage"): "getUsage",
    ("get", "/api/v1/users"): "listUsers",
    ("post", "/api/v1/users"): "createUser",
    ("get", "/api/v1/users/{user_id}"): "getUser",
    ("patch", "/api/v1/users/{user_id}"): "updateUser",
    ("delete", "/api/v1/users/{user_id}"): "deleteUser",
    ("post", "/api/v1/users/{user_id}/token"): "mintSdkToken",
    ("get", "/api/v1/users/{user_id}/events/workouts"): "listWorkouts",
    ("post", "/api/v1/users/{user_id}/events/workouts"): "createWorkouts",
    ("delete", "/api/v1/users/{user_id}/events/workouts/{workout_id}"): "deleteWorkout",
    ("get", "/api/v1/users/{user_id}/timeseries"): "listTimeSeries",
    ("post", "/api/v1/users/{user_id}/timeseries"): "createTimeSeries",
    ("get", "/api/v1/applications"): "listApplications",
    ("post", "/api/v1/applications"): "createApplication",
    ("get", "/api/v1/applications/{application_id}"): "getApplication",
    ("delete", "/api/v1/applications/{application_id}"): "deleteApplication",
    ("post", "/api/v1/applications/{application_id}/rotate-secret"): "rotateApplicationSecret",
    ("get", "/api/v1/audit-events"): "listAuditEvents",
}


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def resolve(spec, node):
    while "$ref" in node:
        node = spec["components"][node["$ref"].split("/")[2]][node["$ref"].split("/")[3]]
    return node


def test_the_document_is_valid_openapi(spec):
    validate(spec)


def test_every_operation_has_a_camel_case_operation_id(spec):
    unnamed = [
        f"{method.upper()} {path}"
        for method, path, op in operations(spec)
        if "operationId" not in op
    ]

    assert unnamed == [], (
        "Give each operation a stable operationId, e.g. "
        '`@blp.doc(operationId="createApiKey")` under its first decorator: ' + ", ".join(unnamed)
    )
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert [i for i in ids if not CAMEL_CASE.fullmatch(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_operation_ids_are_stable(spec):
    found = {(method, path): op.get("operationId") for method, path, op in operations(spec)}

    assert {key: found.get(key) for key in STABLE_OPERATION_IDS} == STABLE_OPERATION_IDS


def test_every_operation_has_a_summary_and_a_declared_feature_tag(spec):
    declared = {tag["name"] for tag in spec["tags"]}

    for method, path, operation in operations(spec):
        assert operation.get("summary"), (method, path)
        assert operation["tags"], (method, path)
        assert set(operation["tags"]) <= declared, (method, path)


def test_enums_are_documented(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["TokenPair"]["properties"]["token_type"]["enum"] == ["bearer"]
    assert schemas["ApiKey"]["properties"]["environment"]["enum"] == ["live", "test"]
    assert schemas["ApiKeyCreate"]["properties"]["environment"]["enum"] == ["live", "test"]
    point = schemas["TimeSeriesPoint"]["properties"]
    assert point["type"]["enum"] == sorted(TIMESERIES_UNITS)
    assert point["unit"]["enum"] == sorted(set(TIMESERIES_UNITS.values()))
    assert schemas["TimeSeriesPointWrite"]["properties"]["type"]["enum"] == sorted(TIMESERIES_UNITS)


def test_response_schemas_mark_their_always_present_fields_required(spec):
    schemas = spec["components"]["schemas"]

    assert set(schemas["User"]["required"]) == set(schemas["User"]["properties"])
    assert set(schemas["Workout"]["required"]) == set(schemas["Workout"]["properties"])
    assert set(schemas["UserPage"]["required"]) == {
        "items",
        "total",
        "page",
        "limit",
        "pages",
        "has_next",
        "has_prev",
    }
    assert "key" in schemas["ApiKeyWithSecret"]["required"]


def test_limited_responses_document_the_rate_limit_headers(spec):
    for method, path, operation in operations(spec):
        limited = path not in {"/healthz", "/readyz"}
        for status, response in operation["responses"].items():
            headers = set(resolve(spec, response).get("headers", {}))
            # A 503 may come before the caller is known (database or Redis down).
            counted = limited and status != "503"
            assert (set(RATE_LIMIT_HEADERS) <= headers) == counted, (method, path, status)
            if status == "429":
                assert "Retry-After" in headers
            if status == "401":
                assert "WWW-Authenticate" in headers
    for name in (*RATE_LIMIT_HEADERS, "Retry-After", "WWW-Authenticate"):
        assert spec["components"]["headers"][name]["required"] is True


def test_the_contract_check_catches_a_missing_header_and_a_missing_field(
    app, client, admin_headers
):
    response = client.get("/api/v1/auth/me", headers=admin_headers)
    del response.headers["X-RateLimit-Remaining"]
    response.set_data(b'{"id": "x"}')

    with pytest.raises(ContractViolationError) as caught:
        check(app, "GET", "/api/v1/auth/me", response)

    assert "X-RateLimit-Remaining" in str(caught.value)
    assert "body.email" in str(caught.value)


def test_the_contract_check_catches_an_undocumented_status(app, client, admin_headers):
    response = client.get("/api/v1/auth/me", headers=admin_headers)
    response.status_code = 404

    with pytest.raises(ContractViolationError, match="status 404 is not documented"):
        check(app, "GET", "/api/v1/auth/me", response)
