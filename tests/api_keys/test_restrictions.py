"""Restricted API keys: `scopes` and `allowed_ips` on create and update, enforced from
the cached record (Redis) and from PostgreSQL (Redis down), refusals audited once an hour."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.core.store import MemoryStore
from app.extensions import db
from tests.support.auth import bearer
from tests.support.ports import free_port

KEYS = "/api/v1/api-keys"
USERS = "/api/v1/users"
IP_REFUSED = {"detail": "This API key is not allowed from this IP address."}


def create_key(client, admin_headers, **fields) -> dict:
    response = client.post(KEYS, json={"name": "restricted", **fields}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.created_at)
            )
        )


def test_restrictions_are_normalised_and_shown(client, admin_headers):
    created = create_key(
        client,
        admin_headers,
        scopes=["users:write", "users:read", "users:read"],
        allowed_ips=["203.0.113.0/24", "192.0.2.7", "2001:DB8::/32", "192.0.2.7/32"],
    )
    shown = client.get(f"{KEYS}/{created['id']}", headers=admin_headers).get_json()
    listed = client.get(KEYS, headers=admin_headers).get_json()
    unrestricted = create_key(client, admin_headers)

    assert created["scopes"] == ["users:read", "users:write"]
    assert created["allowed_ips"] == ["203.0.113.0/24", "192.0.2.7/32", "2001:db8::/32"]
    assert (shown["scopes"], shown["allowed_ips"]) == (created["scopes"], created["allowed_ips"])
    assert [key["scopes"] for key in listed if key["id"] == created["id"]] == [created["scopes"]]
    assert (unrestricted["scopes"], unrestricted["allowed_ips"]) == (None, None)


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"scopes": []}, "scopes: Give 1 to 5 entries, or null for no restriction."),
        ({"scopes": ["users:admin"]}, "Unknown scope 'users:admin'"),
        ({"allowed_ips": []}, "allowed_ips: Give 1 to 100 entries, or null"),
        ({"allowed_ips": ["10.0.0.300"]}, "'10.0.0.300' is not a network (CIDR)"),
        ({"allowed_ips": ["203.0.113.7/24"]}, "'203.0.113.7/24' is not a network (CIDR)"),
        ({"allowed_ips": [f"10.0.{n}.0/24" for n in range(101)]}, "Give 1 to 100 entries"),
    ],
)
def test_invalid_restrictions_are_422_naming_the_entry(
    client, admin_headers, api_key, fields, detail
):
    created = client.post(KEYS, json={"name": "bad", **fields}, headers=admin_headers)
    updated = client.patch(f"{KEYS}/{api_key['id']}", json=fields, headers=admin_headers)

    for response in (created, updated):
        assert response.status_code == 422
        assert detail in response.get_json()["detail"]


def test_an_update_needs_at_least_one_field(client, admin_headers, api_key):
    response = client.patch(f"{KEYS}/{api_key['id']}", json={}, headers=admin_headers)

    assert response.status_code == 422
    assert "Give at least one of: name, scopes, allowed_ips." in response.get_json()["detail"]


def test_an_update_narrows_at_once_and_null_lifts_it_again(app, client, admin_headers, api_key):
    headers = bearer(api_key["key"])
    assert client.get(USERS, headers=headers).status_code == 200  # cached: full access

    narrowed = client.patch(
        f"{KEYS}/{api_key['id']}", json={"scopes": ["data:read"]}, headers=admin_headers
    )
    refused = client.get(USERS, headers=headers)
    lifted = client.patch(f"{KEYS}/{api_key['id']}", json={"scopes": None}, headers=admin_headers)
    again = client.get(USERS, headers=headers)

    assert narrowed.status_code == 200
    assert (narrowed.get_json()["scopes"], narrowed.get_json()["name"]) == (
        ["data:read"],
        "Test server",
    )
    assert refused.status_code == 403
    assert refused.get_json() == {"detail": "This API key lacks the scope 'users:read'."}
    assert lifted.get_json()["scopes"] is None
    assert again.status_code == 200
    updates = audit_events(app, "api_key.updated")
    assert [event.details for event in updates] == [
        {
            "name": "Test server",
            "prefix": api_key["prefix"],
            "old_scopes": None,
            "scopes": ["data:read"],
        },
        {
            "name": "Test server",
            "prefix": api_key["prefix"],
            "old_scopes": ["data:read"],
            "scopes": None,
        },
    ]


def test_a_rename_keeps_the_restrictions(client, admin_headers):
    created = create_key(client, admin_headers, scopes=["data:read"], allowed_ips=["10.0.0.0/8"])

    renamed = client.patch(f"{KEYS}/{created['id']}", json={"name": "new"}, headers=admin_headers)

    assert renamed.get_json()["name"] == "new"
    assert renamed.get_json()["scopes"] == ["data:read"]
    assert renamed.get_json()["allowed_ips"] == ["10.0.0.0/8"]


def test_a_key_is_refused_outside_its_allowlist(client, admin_headers):
    created = create_key(client, admin_headers, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    headers = bearer(created["key"])

    inside_v4 = client.get(USERS, headers=headers, **from_address("203.0.113.9"))
    inside_v6 = client.get(USERS, headers=headers, **from_address("2001:db8::1"))
    mapped = client.get(USERS, headers=headers, **from_address("::ffff:203.0.113.10"))
    outside = client.get(USERS, headers=headers, **from_address("198.51.100.7"))
    local = client.get(USERS, headers=headers)

    assert (inside_v4.status_code, inside_v6.status_code, mapped.status_code) == (200, 200, 200)
    for response in (outside, local):
        assert response.status_code == 403
        assert response.get_json() == IP_REFUSED
    # The refused request used the key: it counted against the key's window.
    assert outside.headers["X-RateLimit-Limit"] == inside_v4.headers["X-RateLimit-Limit"]
    assert int(outside.headers["X-RateLimit-Remaining"]) < int(
        inside_v6.headers["X-RateLimit-Remaining"]
    )


def test_a_refusal_is_audited_once_per_network_an_hour(app, client, admin_headers):
    created = create_key(client, admin_headers, allowed_ips=["203.0.113.0/24"])
    headers = bearer(created["key"])

    for address in ("198.51.100.7", "198.51.100.8", "198.51.100.7", "2001:db8:1:2::5"):
        assert client.get(USERS, headers=headers, **from_address(address)).status_code == 403
    for address in ("2001:db8:1:3::9", "192.0.2.1"):
        assert client.get(USERS, headers=headers, **from_address(address)).status_code == 403

    events = audit_events(app, "api_key.ip_refused")
    assert [(e.target_id, e.actor_id, e.details, e.ip) for e in events] == [
        (created["id"], created["id"], {"network": "198.51.100.0/24"}, "198.51.100.7"),
        (created["id"], created["id"], {"network": "2001:db8:1::/48"}, "2001:db8:1:2::5"),
        (created["id"], created["id"], {"network": "192.0.2.0/24"}, "192.0.2.1"),
    ]
    listed = client.get(
        "/api/v1/audit-events", query_string={"action": "api_key.ip_refused"}, headers=admin_headers
    )
    assert len(listed.get_json()["data"]) == 3


def test_claims_kept_in_memory_go_once_lapsed():
    """The per-process claims (the embedded default; every worker while Redis is down):
    one per key and network an hour, and lapsed ones do not pile up."""
    store = MemoryStore()

    assert store.first_in("network-a", 3600)
    assert not store.first_in("network-a", 3600)
    assert store.first_in("lapsed-at-once", 0)
    assert store.first_in("lapsed-at-once", 0)
    assert store.first_in("network-b", 3600)

    assert sorted(store._flags) == ["network-a", "network-b"]


def test_a_refused_request_writes_nothing_to_the_database_after_its_first(
    client, admin_headers, count_statements
):
    created = create_key(client, admin_headers, allowed_ips=["203.0.113.0/24"])
    headers = bearer(created["key"])
    assert client.get(USERS, headers=headers).status_code == 403  # filled, audited

    count_statements.clear()
    for _ in range(5):
        assert client.get(USERS, headers=headers).status_code == 403

    assert count_statements == []


@pytest.fixture
def redis_down_app(make_app):
    """Another worker whose Redis is unreachable: it checks keys in PostgreSQL."""
    return make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")


def test_restrictions_hold_while_redis_is_down(app, redis_down_app, admin_headers):
    client = redis_down_app.test_client()
    created = create_key(
        client, admin_headers, scopes=["users:read"], allowed_ips=["203.0.113.0/24"]
    )
    headers = bearer(created["key"])

    allowed = client.get(USERS, headers=headers, **from_address("203.0.113.1"))
    lacking = client.post(
        USERS, json={"external_user_id": "x"}, headers=headers, **from_address("203.0.113.1")
    )
    outside = [client.get(USERS, headers=headers) for _ in range(3)]

    assert allowed.status_code == 200
    assert lacking.status_code == 403
    assert lacking.get_json() == {"detail": "This API key lacks the scope 'users:write'."}
    assert [(r.status_code, r.get_json()) for r in outside] == [(403, IP_REFUSED)] * 3
    # Deduplicated in this process's memory while Redis is unreachable.
    assert [e.details for e in audit_events(app, "api_key.ip_refused")] == [
        {"network": "127.0.0.0/24"}
    ]
