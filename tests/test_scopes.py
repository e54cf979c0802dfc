"""Who may call what, walked over every route (rule x method) of the app's URL map.

A route is either in the short public list below or declares the credential kinds it
accepts (`requires(...)` leaves `allowed_kinds` on the view); any other route fails
`test_every_route_declares_who_may_call_it`, so a new endpoint cannot ship without a rule.
A route open to API keys also names the scope a restricted key needs (`required_scope`).
"""

import uuid
from typing import NamedTuple

import pytest
from werkzeug.routing import Rule

from app.core.auth import API_KEY_SCOPES, Kind, requires
from tests.support.auth import bearer
from tests.support.factories import create_application, create_user, mint_with_app

PUBLIC = {
    ("static", "GET"),
    ("api-docs.openapi_json", "GET"),
    ("api-docs.openapi_swagger_ui", "GET"),
    ("dashboard.root", "GET"),
    ("dashboard.shell", "GET"),
    ("dashboard.static", "GET"),
    ("api-docs-assets.static", "GET"),
    ("health.Liveness", "GET"),
    ("health.Readiness", "GET"),
    ("auth.Login", "POST"),
    ("refresh.Refresh", "POST"),
    ("jwks.Jwks", "GET"),
    # Holding the token proves the right to revoke it (RFC 7009).
    ("tokens.Revoke", "POST"),
    # The token in the request body is the proof (from a mailed link).
    ("auth.ForgotPassword", "POST"),
    ("auth.ResetPassword", "POST"),
    ("invitations.AcceptInvitation", "POST"),
    # GitHub's ECDSA signature over the body is the proof (only with a keys file).
    ("secret-scanning.LeakReports", "POST"),
}
# Checks its own credentials: app credentials, or an admin's developer token.
TOKEN_MINT = ("sdk_tokens.SdkToken", "POST")


class Route(NamedTuple):
    endpoint: str
    method: str
    rule: Rule
    kinds: frozenset | None
    scope: str | None

    def allows(self, kind: Kind) -> bool:
        return bool(self.kinds) and kind in self.kinds


def every_route(app) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(getattr(view, "view_class", None), method.lower(), view)
            routes.append(
                Route(
                    rule.endpoint,
                    method,
                    rule,
                    getattr(handler, "allowed_kinds", None),
                    getattr(handler, "required_scope", None),
                )
            )
    return routes


def guarded_routes(app) -> list[Route]:
    """Every route that needs credentials, the token mint included."""
    return [r for r in every_route(app) if (r.endpoint, r.method) not in PUBLIC]


def undeclared_routes(app) -> list[tuple[str, str]]:
    return [
        (r.endpoint, r.method)
        for r in guarded_routes(app)
        if not r.kinds and (r.endpoint, r.method) != TOKEN_MINT
    ]


def call(client, app, route: Route, user_id: str, headers: dict):
    values = {
        name: user_id if name == "user_id" else str(uuid.uuid4()) for name in route.rule.arguments
    }
    url = app.url_map.bind("localhost").build(route.endpoint, values, method=route.method)
    body = {"json": {}} if route.method in {"POST", "PUT", "PATCH"} else {}
    return client.open(url, method=route.method, headers=headers, **body)


def is_refusal(response) -> bool:
    return response.status_code == 403 and set(response.get_json(silent=True) or {}) == {"detail"}


@pytest.fixture
def users(client, admin_headers) -> tuple[str, str]:
    return create_user(client, admin_headers)["id"], create_user(client, admin_headers)["id"]


@pytest.fixture
def sdk_headers_a(client, admin_headers, users):
    application = create_application(client, admin_headers)
    return bearer(mint_with_app(client, users[0], application).get_json()["access_token"])


def test_every_route_declares_who_may_call_it(app):
    assert undeclared_routes(app) == []


def test_a_route_without_a_rule_is_caught(make_app):
    app = make_app()
    app.add_url_rule("/api/v1/users/<uuid:user_id>/leak", "leak", lambda user_id: {})

    assert undeclared_routes(app) == [("leak", "GET")]


def test_an_sdk_token_is_403_on_every_other_user_and_every_admin_route(
    app, client, users, sdk_headers_a
):
    own, other = users
    wrong, checked = [], 0
    for route in guarded_routes(app):
        # Routes open to SDK tokens must refuse another user; the rest refuse even its own.
        for target in [other] if route.allows(Kind.SDK) else [own, other]:
            response = call(client, app, route, target, sdk_headers_a)
            checked += 1
            if not is_refusal(response):
                wrong.append((route.method, route.rule.rule, target == own, response.status_code))

    assert wrong == []
    assert checked >= 40


def test_an_sdk_token_works_on_its_own_user(app, client, users, sdk_headers_a):
    own, _ = users
    refused = [
        (route.method, route.rule.rule)
        for route in guarded_routes(app)
        if route.allows(Kind.SDK)
        and call(client, app, route, own, sdk_headers_a).status_code in {401, 403}
    ]

    assert refused == []
    own_user = client.get(f"/api/v1/users/{own}", headers=sdk_headers_a)
    assert own_user.status_code == 200
    assert own_user.get_json()["id"] == own


def test_a_developer_token_is_403_where_developers_are_not_allowed(make_app, users, admin_headers):
    """No route is SDK-or-API-key only today, so one is added: the check then has a route
    to refuse, and any future such route is checked the same way."""
    app = make_app()
    app.add_url_rule(
        "/api/v1/users/<uuid:user_id>/devices",
        "devices",
        requires(Kind.API_KEY, Kind.SDK, scope="data:read")(lambda user_id: {}),
    )
    client = app.test_client()
    closed = [
        route for route in guarded_routes(app) if route.kinds and not route.allows(Kind.DEVELOPER)
    ]
    wrong = [
        (route.method, route.rule.rule)
        for route in closed
        if not is_refusal(call(client, app, route, users[0], admin_headers))
    ]

    assert wrong == []
    assert ("devices", "GET") in {(route.endpoint, route.method) for route in closed}


def test_an_api_key_is_403_on_minting_applications_and_other_admin_routes(
    app, client, users, api_key_headers
):
    closed = [route for route in guarded_routes(app) if not route.allows(Kind.API_KEY)]
    wrong = [
        (route.method, route.rule.rule)
        for route in closed
        if not is_refusal(call(client, app, route, users[0], api_key_headers))
    ]

    assert wrong == []
    assert {
        "/api/v1/users/<uuid:user_id>/token",
        "/api/v1/applications",
        "/api/v1/applications/<uuid:application_id>/rotate-secret",
        "/api/v1/audit-events",
    } <= {route.rule.rule for route in closed}


def test_an_api_key_reaches_every_users_data(app, client, users, api_key_headers):
    refused = [
        (route.method, route.rule.rule)
        for route in guarded_routes(app)
        if route.allows(Kind.API_KEY)
        for target in users
        if call(client, app, route, target, api_key_headers).status_code in {401, 403}
    ]

    assert refused == []


def test_every_route_open_to_api_keys_names_a_scope_of_the_vocabulary(app):
    open_to_keys = [route for route in guarded_routes(app) if route.allows(Kind.API_KEY)]
    unscoped = [(r.endpoint, r.method) for r in open_to_keys if r.scope not in API_KEY_SCOPES]

    assert unscoped == []
    assert {route.scope for route in open_to_keys} == set(API_KEY_SCOPES)
    # And only those: scopes never restrict a route API keys cannot call anyway.
    assert [r for r in guarded_routes(app) if r.scope and not r.allows(Kind.API_KEY)] == []


def test_a_view_open_to_api_keys_cannot_leave_out_its_scope_or_invent_one():
    with pytest.raises(ValueError, match="names one scope"):
        requires(Kind.DEVELOPER, Kind.API_KEY)
    with pytest.raises(ValueError, match="names one scope"):
        requires(Kind.API_KEY, scope="users:admin")
    with pytest.raises(ValueError, match="names one scope"):
        requires(Kind.DEVELOPER, scope="users:read")


@pytest.mark.parametrize("scope", list(API_KEY_SCOPES))
def test_a_key_with_one_scope_reaches_exactly_the_routes_of_that_scope(
    app, client, admin_headers, users, scope
):
    created = client.post(
        "/api/v1/api-keys", json={"name": scope, "scopes": [scope]}, headers=admin_headers
    ).get_json()
    headers = bearer(created["key"])
    wrong = []
    for route in guarded_routes(app):
        if not route.allows(Kind.API_KEY):
            continue
        response = call(client, app, route, users[0], headers)
        lacks = {"detail": f"This API key lacks the scope '{route.scope}'."}
        if route.scope == scope:
            if response.status_code in {401, 403}:
                wrong.append((route.method, route.rule.rule, response.status_code))
        elif response.status_code != 403 or response.get_json() != lacks:
            wrong.append((route.method, route.rule.rule, response.get_json()))

    assert created["scopes"] == [scope]
    assert wrong == []


def test_scopes_restrict_api_keys_only(client, admin_headers, users):
    """A developer token passes where a key restricted to reading is refused."""
    reader = client.post(
        "/api/v1/api-keys", json={"name": "reader", "scopes": ["users:read"]}, headers=admin_headers
    ).get_json()
    body = {"external_user_id": "scoped"}

    refused = client.post("/api/v1/users", json=body, headers=bearer(reader["key"]))
    allowed = client.post("/api/v1/users", json=body, headers=admin_headers)

    assert refused.status_code == 403
    assert refused.get_json() == {"detail": "This API key lacks the scope 'users:write'."}
    assert allowed.status_code == 201
