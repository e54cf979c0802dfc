"""Every response to a counted caller carries the rate-limit headers, wrong paths and
methods included; the probes and the docs are never counted."""

import pytest

from tests.ratelimit.helpers import RATE_LIMIT_HEADERS


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/no-such-thing", 404),
        ("DELETE", "/api/v1/users", 405),
        ("PUT", "/api/v1/auth/me", 405),
    ],
)
def test_a_counted_callers_404_and_405_carry_the_headers(
    client, api_key_headers, method, path, status
):
    first = client.open(path, method=method, headers=api_key_headers)
    second = client.open(path, method=method, headers=api_key_headers)

    assert (first.status_code, second.status_code) == (status, status)
    assert all(name in second.headers for name in RATE_LIMIT_HEADERS)
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert (
        int(second.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )


def test_an_anonymous_404_counts_against_the_client_ip(client):
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["X-RateLimit-Limit"] == "120"


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/readyz", "/docs", "/docs/swagger-ui/swagger-ui.css", "/api/v1/openapi.json"],
)
def test_probes_and_docs_are_never_counted(client, api_key_headers, path):
    with client.get(path, headers=api_key_headers) as response:
        assert response.status_code == 200
        assert not any(name in response.headers for name in RATE_LIMIT_HEADERS)


def test_a_204_has_no_content_type(client, api_key_headers):
    user = client.post("/api/v1/users", json={}, headers=api_key_headers).get_json()

    response = client.delete(f"/api/v1/users/{user['id']}", headers=api_key_headers)

    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
