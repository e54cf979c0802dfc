"""Fuzz every operation of the app's own OpenAPI spec with schemathesis, in process.

Valid and invalid inputs generated from the spec, with a developer token and with an
API key, must never get a 5xx, every error body must be `{"detail": ...}` (with `errors`
for validation), and every response must match its documented schema. The run is
deterministic (derandomised) and bounded by `EXAMPLES_PER_OPERATION`; a failure names
the operation and the shrunk input.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import response_schema_conformance

from tests.support.auth import bearer, login

EXAMPLES_PER_OPERATION = 30
UNLIMITED = "1000000 per minute"


@pytest.fixture
def config_overrides():
    # Rate limits would turn most generated requests into 429s and hide the handlers.
    names = ("API_KEY", "SDK_USER", "DEVELOPER", "PER_IP", "FAILED_LOGINS_PER_IP")
    names += ("FAILED_LOGINS_PER_EMAIL", "FAILED_MINTS_PER_APP", "FAILED_MINTS_PER_IP")
    names += ("FAILED_LOGINS_PER_EMAIL_AND_IP", "FAILED_PASSWORD_CHECKS_PER_DEVELOPER")
    names += ("PASSWORD_RESETS_PER_EMAIL", "PASSWORD_RESETS_PER_IP")
    return {f"RATELIMIT_{name}": UNLIMITED for name in names}


def assert_no_server_error_and_a_detail_body(case, response) -> None:
    described = f"{case.method} {case.formatted_path} {case.query!r} {case.body!r}"
    assert response.status_code < 500, f"{response.status_code} for {described}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict), f"{body!r} for {described}"
        assert isinstance(body.get("detail"), str), f"{body!r} for {described}"
        assert set(body) <= {"detail", "errors"}, f"{body!r} for {described}"


def fuzz_operation(operation, headers: dict[str, str]) -> None:
    strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=strategies[0] | strategies[1])
    def run(data):
        response = data.call(headers=headers)
        assert_no_server_error_and_a_detail_body(data, response)
        data.validate_response(response, checks=[response_schema_conformance])

    run()


@pytest.mark.slow
@pytest.mark.parametrize("credential", ["developer", "api_key"])
def test_no_generated_input_gets_a_server_error_or_another_error_shape(
    app, client, admin, api_key, credential
):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        if credential == "developer":
            # A fresh token each time: a fuzzed logout may have revoked the last one.
            token = login(client, admin["email"], admin["password"]).get_json()["access_token"]
        else:
            token = api_key["key"]
        fuzz_operation(operation, bearer(token))
